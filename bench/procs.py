"""Starting, watching and stopping the servers under test (Hearth, the naive
baseline, redis-server), and reading their CPU time and RSS from /proc.

Every server listens on 127.0.0.1 only.  Each child gets its RLIMIT_NOFILE soft
limit raised to the hard limit and may be pinned to a set of cores.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ctypes
import os
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

REPO = Path(__file__).resolve().parent.parent
CLK_TCK = os.sysconf("SC_CLK_TCK")
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def raise_nofile() -> int:
    """Raise this process's soft RLIMIT_NOFILE to its hard limit; return it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            return soft
    return hard


def pin(pid: int, cores: Iterable[int] | None) -> bool:
    """Pin ``pid`` (0 = this process) to ``cores`` when the machine has them."""
    if cores is None or not hasattr(os, "sched_setaffinity"):
        return False
    want = set(cores)
    have = os.sched_getaffinity(0) | set(range(os.cpu_count() or 1))
    if not want or not want <= have or (os.cpu_count() or 1) < 2:
        return False
    try:
        os.sched_setaffinity(pid, want)
    except OSError:
        return False
    return True


def proc_cpu_seconds(pid: int) -> float:
    """utime + stime of ``pid`` in seconds (from /proc/<pid>/stat)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return float("nan")
    rest = data[data.rindex(b")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLK_TCK


def proc_rss_bytes(pid: int) -> int:
    """VmRSS of ``pid`` in bytes (from /proc/<pid>/status); 0 when gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def cpu_times() -> dict[str, tuple[int, int]]:
    """Per-core (busy, total) jiffies from /proc/stat, to see other load on the machine."""
    out: dict[str, tuple[int, int]] = {}
    try:
        with open("/proc/stat") as f:
            for line in f:
                if line.startswith("cpu") and line[3:4].isdigit():
                    name, *vals = line.split()
                    v = [int(x) for x in vals]
                    idle = v[3] + (v[4] if len(v) > 4 else 0)
                    out[name] = (sum(v[:8]) - idle, sum(v[:8]))
    except OSError:
        pass
    return out


def core_busy(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> dict[str, float]:
    """Share of each core that was busy (by anyone) between two ``cpu_times()``."""
    res = {}
    for k, (b1, t1) in after.items():
        b0, t0 = before.get(k, (0, 0))
        res[k] = round((b1 - b0) / (t1 - t0), 3) if t1 > t0 else 0.0
    return res


def machine_info() -> dict[str, object]:
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import uvloop  # type: ignore[import-not-found]  # noqa: F401

        have_uvloop = True
    except ImportError:
        have_uvloop = False
    return {
        "uvloop_installed": have_uvloop,  # Hearth's CLI uses it when installed
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": sys.version.split()[0],
        "platform": sys.platform,
    }


def hearth_available() -> bool:
    return (REPO / "server" / "app.py").exists() or (REPO / "server" / "__main__.py").exists()


NODE_DIR = REPO / "bench" / "node"


def node_exe() -> str | None:
    return shutil.which("node")


def node_available() -> str | None:
    """None when the Node anchor can run, else why not."""
    if node_exe() is None:
        return "node is not installed (Debian: apt-get install nodejs npm)"
    if not (NODE_DIR / "node_modules" / "socket.io").is_dir():
        return "bench/node/node_modules missing: run `npm ci` in bench/node (make bench does)"
    return None


def node_versions() -> dict[str, str]:
    """Node's and socket.io's versions, for the record."""
    out = {}
    exe = node_exe()
    if exe:
        try:
            out["node"] = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            pass
    try:
        import json

        pkg = json.loads((NODE_DIR / "node_modules" / "socket.io" / "package.json").read_text())
        out["socket.io"] = str(pkg["version"])
    except (OSError, ValueError, KeyError):
        pass
    return out


def _preexec(cores: tuple[int, ...] | None):  # type: ignore[no-untyped-def]
    def run() -> None:
        raise_nofile()
        if cores is not None:
            try:
                os.sched_setaffinity(0, set(cores))
            except OSError:
                pass
        os.setsid()  # own process group: SIGTERM reaches nothing else
        # ... but the bench going away (killed, Ctrl-C) takes its servers with it.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)

    return run


@dataclass
class ServerProc:
    """One server process under test."""

    kind: str  # "hearth" | "baseline" | "node" | "redis"
    port: int
    proc: subprocess.Popen[bytes]
    workdir: Path
    log_path: Path
    own_workdir: bool = True
    extra: dict[str, str] = field(default_factory=dict)
    saved_log: str | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        return proc_cpu_seconds(self.pid)

    def rss_bytes(self) -> int:
        return proc_rss_bytes(self.pid)

    def log_tail(self, n: int = 40) -> str:
        if self.saved_log is not None:
            return "\n".join(self.saved_log.splitlines()[-n:])
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def stop(self, timeout: float = 20.0) -> int | None:
        if self.proc.poll() is None:
            try:
                self.proc.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.own_workdir:
            self.saved_log = self.log_tail(200)
            shutil.rmtree(self.workdir, ignore_errors=True)
        return self.proc.returncode


def new_secret_key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def start_server(
    kind: str,
    *,
    admin_password: str,
    secret_key: str | None = None,
    redis_url: str | None = None,
    cores: tuple[int, ...] | None = None,
    port: int | None = None,
    python: str = sys.executable,
) -> ServerProc:
    """Start Hearth (``kind="hearth"``), the naive baseline or the Node anchor on a free port."""
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix=f"hearth-bench-{kind}-"))
    env = dict(os.environ)
    env.update(
        HEARTH_DATA_DIR=str(workdir / "data"),
        HEARTH_SECRET_KEY=secret_key or new_secret_key(),
        HEARTH_ADMIN_PASSWORD=admin_password,
        HEARTH_IP_LIMITS="off",
        PYTHONUNBUFFERED="1",
    )
    (workdir / "data").mkdir()
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    if kind == "hearth":
        module = "server"
    elif kind == "baseline":
        module = "bench.baseline_naive"
    elif kind == "node":
        module = ""
    else:
        raise ValueError(kind)
    if kind == "node":
        cmd = [node_exe() or "node", str(NODE_DIR / "server.js"), "--host", "127.0.0.1", "--port", str(port)]
    else:
        cmd = [python, "-m", module, "--host", "127.0.0.1", "--port", str(port)]
        if kind == "hearth" and (wrap := os.environ.get("BENCH_HEARTH_WRAP", "").split()):
            # A profiler in front of each Hearth server, {port} standing for its port:
            # BENCH_HEARTH_WRAP="heaptrack -o /tmp/ht.{port}"
            cmd = [w.replace("{port}", str(port)) for w in wrap] + cmd
    log_path = workdir / "server.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            # HEARTH_BENCH_REPO: run Hearth from another checkout (bench/compare_revisions.sh).
            cwd=os.environ.get("HEARTH_BENCH_REPO", str(REPO)) if kind == "hearth" else str(REPO),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_preexec(cores),
        )
    return ServerProc(kind, port, proc, workdir, log_path, extra={"cmd": " ".join(cmd)})


@contextlib.contextmanager
def worktree(rev: str) -> Iterator[tuple[str, Path]]:
    """A temporary checkout of ``rev`` to serve Hearth from (``HEARTH_BENCH_REPO``): (short sha, path)."""
    sha = subprocess.check_output(["git", "rev-parse", "--short", rev], cwd=REPO, text=True).strip()
    path = Path(tempfile.mkdtemp(prefix=f"hearth-rev-{sha}-"))
    subprocess.check_call(["git", "worktree", "add", "--detach", "-q", str(path), rev], cwd=REPO)
    try:
        yield sha, path
    finally:
        subprocess.call(["git", "worktree", "remove", "--force", str(path)], cwd=REPO)


def start_redis(cores: tuple[int, ...] | None = None) -> ServerProc:
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed (make system-deps installs it)")
    port = free_port()
    if port == 6379:
        port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="hearth-bench-redis-"))
    log_path = workdir / "redis.log"
    cmd = [
        exe,
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(workdir),
        "--maxclients",
        "10000",
    ]
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            cmd,
            cwd=str(workdir),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=_preexec(cores),
        )
    return ServerProc("redis", port, proc, workdir, log_path)


async def wait_redis(srv: ServerProc, timeout: float = 20.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if srv.proc.poll() is not None:
            raise RuntimeError(f"redis-server exited:\n{srv.log_tail()}")
        try:
            r, w = await asyncio.open_connection("127.0.0.1", srv.port)
            w.write(b"PING\r\n")
            await w.drain()
            line = await asyncio.wait_for(r.readline(), 2)
            w.close()
            await w.wait_closed()
            if line.startswith(b"+PONG"):
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("redis-server did not answer PING")


async def wait_healthy(srv: ServerProc, timeout: float = 60.0) -> dict[str, object]:  # noqa: ASYNC109
    """Poll GET /healthz until 200; raise with the log tail if it never comes."""
    deadline = time.monotonic() + timeout
    last = ""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=3)) as http:
        while time.monotonic() < deadline:
            if srv.proc.poll() is not None:
                raise RuntimeError(f"{srv.kind} server exited with {srv.proc.returncode}:\n{srv.log_tail()}")
            try:
                async with http.get(srv.url + "/healthz") as resp:
                    body = await resp.text()
                    if resp.status == 200:
                        try:
                            import json

                            return dict(json.loads(body))
                        except ValueError:
                            return {"status": "ok"}
                    last = f"{resp.status} {body[:200]}"
            except (TimeoutError, aiohttp.ClientError) as exc:
                last = repr(exc)
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{srv.kind} server not healthy after {timeout}s ({last}):\n{srv.log_tail()}")


def random_password() -> str:
    return secrets.token_urlsafe(18)
