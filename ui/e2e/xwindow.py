#!/usr/bin/python3
"""The app's top-level X windows, for ui/e2e/app.e2e.mjs (run with the system Python: python3-xlib).

    xwindow.py list PID     one JSON line: [{"id", "title", "viewable"}] of PID's top-level windows
    xwindow.py close PID TITLE
                            asks PID's windows of that title to close as a window manager does when
                            their close button is clicked (a WM_DELETE_WINDOW message), printing
                            how many
"""
import json
import sys

from Xlib import X, display, protocol


def windows(d, pid):
    pid_atom = d.intern_atom("_NET_WM_PID")
    delete = d.intern_atom("WM_DELETE_WINDOW")
    out = []
    for w in d.screen().root.query_tree().children:
        try:
            prop = w.get_full_property(pid_atom, X.AnyPropertyType)
            if not prop or prop.value[0] != pid:
                continue
            protocols = w.get_wm_protocols() or []
            if delete not in protocols:
                continue  # not a window a user could close (GTK's helper windows)
            name = w.get_full_property(d.intern_atom("_NET_WM_NAME"), d.intern_atom("UTF8_STRING"))
            title = name.value.decode() if name else (w.get_wm_name() or "")
            out.append((w, title, w.get_attributes().map_state == X.IsViewable))
        except Exception:  # a window gone while looking
            continue
    return out


def main():
    cmd, pid = sys.argv[1], int(sys.argv[2])
    d = display.Display()
    found = windows(d, pid)
    if cmd == "list":
        print(json.dumps([{"id": w.id, "title": t, "viewable": v} for w, t, v in found]))
    elif cmd == "close":
        wm_protocols = d.intern_atom("WM_PROTOCOLS")
        delete = d.intern_atom("WM_DELETE_WINDOW")
        found = [f for f in found if f[1] == sys.argv[3]]
        for w, _, _ in found:
            ev = protocol.event.ClientMessage(window=w, client_type=wm_protocols, data=(32, [delete, X.CurrentTime, 0, 0, 0]))
            w.send_event(ev, event_mask=X.NoEventMask)
        d.flush()
        print(len(found))
    else:
        sys.exit(f"unknown command {cmd}")


main()
