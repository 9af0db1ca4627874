<?php
// wp-config.php of the WordPress test sites (scripts/servers/wordpress.sh copies it into a copy
// of Debian's /usr/share/wordpress). Everything that differs between the test sites of one run
// comes from the environment of the `php -S` process that serves it, so one copy of the code
// serves all of them.
define('DB_NAME', 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', 'localhost:' . getenv('KEYWARD_WP_DB_SOCKET'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$table_prefix = 'wp_';

// "local" lets application passwords work over plain http; the test site that shows what
// happens without them runs as "production".
define('WP_ENVIRONMENT_TYPE', getenv('KEYWARD_WP_ENVIRONMENT') ?: 'local');
// The port changes every run; the database is a cached copy made on another port.
define('WP_HOME', getenv('KEYWARD_WP_URL'));
define('WP_SITEURL', getenv('KEYWARD_WP_URL'));

// Test sites only: fixed keys are fine (application passwords are hashed without them).
define('AUTH_KEY', 'keyward-test-auth-key');
define('SECURE_AUTH_KEY', 'keyward-test-secure-auth-key');
define('LOGGED_IN_KEY', 'keyward-test-logged-in-key');
define('NONCE_KEY', 'keyward-test-nonce-key');
define('AUTH_SALT', 'keyward-test-auth-salt');
define('SECURE_AUTH_SALT', 'keyward-test-secure-auth-salt');
define('LOGGED_IN_SALT', 'keyward-test-logged-in-salt');
define('NONCE_SALT', 'keyward-test-nonce-salt');

define('WP_DEBUG', false);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('DISABLE_WP_CRON', true);
// Never call out to wordpress.org (update checks, events) from a test.
define('WP_HTTP_BLOCK_EXTERNAL', true);

if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
