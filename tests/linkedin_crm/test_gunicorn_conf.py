"""gunicorn.conf.py, run by the real gunicorn as README's production recipe runs it."""

import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"


def test_it_leaves_nothing_in_the_home_folder(tmp_path):
    """gunicorn's control socket would go to $HOME/.gunicorn/: for the crm user of the recipe that
    is /srv/crm, the checkout, and every gunicorn of one user (the service, `make loadtest`)
    would take over and then delete the same socket. The units reload and stop by signals."""
    home = tmp_path / "home"
    home.mkdir()
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "gunicorn.conf.py", "--bind", "127.0.0.1:0", "--workers", "1"],
        cwd=ROOT,
        # No XDG_RUNTIME_DIR, as under a systemd service: the default socket path is then $HOME's.
        env={"PATH": "/usr/bin:/bin", "HOME": str(home), "DEBUG": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    assert server.stderr is not None
    log = []
    try:
        for line in server.stderr:
            log.append(line)
            # The master starts its control socket, if any, right after its first workers and
            # before it handles a signal, so the SIGTERM below comes after that point.
            if "Booting worker" in line:
                break
        server.send_signal(signal.SIGTERM)
        log.extend(server.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
    output = "".join(log)
    assert "Booting worker" in output, output
    assert "Control socket" not in output, output
    assert list(home.iterdir()) == []
