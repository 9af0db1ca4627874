# The two commands of the README's quick start. Both install what is missing first.
.PHONY: run test cli package

# Builds and starts the desktop app.
run:
	@if [ -f scripts/run-app.sh ]; then bash scripts/run-app.sh; else $(MAKE) --no-print-directory cli; fi

# Runs every test: unit, CLI, providers against real servers, the real keyring, the UI, the real app.
test:
	@bash scripts/test.sh

# Builds the command-line tool and shows its help.
cli:
	@bash scripts/system-deps.sh
	@bash scripts/npm-ci.sh .
	@. scripts/env.sh && cargo build --locked --bin keyward && "$$CARGO_TARGET_DIR/debug/keyward" --help

# Builds the .deb and .rpm packages (the app, the keyward CLI, desktop entry, icons, metainfo).
package:
	@bash scripts/package.sh
