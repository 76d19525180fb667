"""`pressqa ingest` / `ask` / `releases` on a data dir another process holds: a clear message and exit 2, no traceback box."""

import subprocess
import sys
import textwrap

from pressqa.settings import REPO_ROOT
from real_serve import PRESSQA, serve_env

SEED = REPO_ROOT / "corpus/seed/china-central-asia-foreign-ministers-meeting.txt"

HOLDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from core.store_lock import hold_data_dir
    hold = hold_data_dir(Path(sys.argv[1]))
    print("held", flush=True)
    sys.stdin.readline()
    """
)


def test_cli_commands_on_a_held_data_dir_exit_2_with_the_message(tmp_path):
    data = tmp_path / "data"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(data)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        assert holder.stdout.readline().strip() == "held"
        for args in (["ingest", str(SEED)], ["ask", "Who attended the meeting?"], ["releases"]):
            run = subprocess.run([*PRESSQA, *args, "--data", str(data)], env=serve_env(), capture_output=True, text=True, timeout=300, cwd=tmp_path)
            out = run.stdout + run.stderr
            assert run.returncode == 2, (args, out)
            assert "already open in another process" in out and "PRESSQA_CHROMA_URL" in out, (args, out)
            assert "Traceback" not in out and "╭" not in out and "DataDirInUse" not in out, (args, out)
    finally:
        holder.kill()
        holder.wait()
