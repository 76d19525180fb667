"""What the tests share: the real servers they start on 127.0.0.1, and a made-up release to upload."""

import socket
import subprocess

# A made-up release the API tests upload and then ask about (no bundled release mentions it).
UPLOAD_URL = "https://example.org/press/2025/03/zorblax-director"
UPLOAD_TEXT = f"""Title: Zorblax Institute names a new director
Date: 2025-03-03
URL: {UPLOAD_URL}

The Zorblax Institute appointed Mirela Quastenberg as its new director on Monday.

Quastenberg previously led the institute's glacier research programme for nine years.
"""


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen, timeout: float = 15) -> None:
    """Terminate politely, kill when it does not exit in time, and reap it."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def report_line(request, line: str) -> None:
    """Print a summary line in pytest's output even when output is captured (fuzz case counts)."""
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    capture = request.config.pluginmanager.get_plugin("capturemanager")
    if reporter and capture:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)
