#!/usr/bin/env python3
"""Slipway's job agent: runs inside a user's batch job on a compute node (Python 3 stdlib only).

    python3 slipway-job.py <job dir>

It reads <job dir>/job.json (0600, in a 0700 directory owned by the user; written by
slipway-helper before sbatch), deletes it, starts stock Jupyter with --config=<file> on port 0
over TLS with the launch's own key, learns the port the kernel gave it from /proc, reports only
{"port": N} once to the hub with the one-time credential, then waits for Jupyter and exits with
its code. When Jupyter has exited it deletes the config (the token) and the key. The token, the
credential and the key never appear in argv, the environment or the log.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

LISTEN = "0A"
PORT_TIMEOUT_S = 300
RETRY_DELAYS_S = [0.5, 1, 2, 4, 8, 15, 30, 30, 30, 30]


def log(message):
    print("slipway-job: " + message, file=sys.stderr, flush=True)


def socket_inodes(pid):
    inodes = set()
    fd_dir = "/proc/%d/fd" % pid
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return inodes
    for name in names:
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith("socket:[") and target.endswith("]"):
            inodes.add(target[8:-1])
    return inodes


def listening_ports(pid):
    """Ports the process listens on: its socket inodes matched against LISTEN rows of net/tcp*."""
    inodes = socket_inodes(pid)
    ports = []
    for table in ("tcp", "tcp6"):
        try:
            with open("/proc/%d/net/%s" % (pid, table)) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if len(cols) > 9 and cols[3] == LISTEN and cols[9] in inodes:
                port = int(cols[1].rsplit(":", 1)[1], 16)
                if port not in ports:
                    ports.append(port)
    return ports


def identity(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def remove_own(path, ident):
    """Deletes path if it is still the file this job started with. The helper replaces these files
    (by rename) when the same server is submitted again, possibly while this job still winds down;
    the newer job's files are its own."""
    if ident is not None and identity(path) == ident:
        try:
            os.unlink(path)
        except OSError:
            pass


def report_port(job, port):
    body = json.dumps({"port": port}).encode()
    url = job["callbackUrl"].rstrip("/") + "/hub/api/batch/servers/%d/port" % job["serverId"]
    for delay in RETRY_DELAYS_S:
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"content-type": "application/json", "authorization": "token " + job["credential"]},
        )
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                if response.status < 300:
                    log("reported port %d to the hub" % port)
                    return True
        except urllib.error.HTTPError as err:
            # 409: the hub has not recorded the job yet; anything else 4xx will not change.
            if err.code != 409 and 400 <= err.code < 500:
                log("the hub refused the port report (HTTP %d)" % err.code)
                return False
        except (urllib.error.URLError, OSError) as err:
            log("could not reach the hub (%s); retrying" % type(err).__name__)
        time.sleep(delay)
    log("gave up reporting the port to the hub")
    return False


def main():
    if len(sys.argv) != 2:
        log("usage: slipway-job.py <job dir>")
        return 2
    job_dir = sys.argv[1]
    job_file = os.path.join(job_dir, "job.json")
    with open(job_file) as f:
        job = json.load(f)
    # The credential is good for one report only; nothing else needs the file.
    os.unlink(job_file)
    # The token and the TLS key are of use only while this job's Jupyter runs; until then the key
    # stays on disk, because tornado reads it again for every connection it accepts.
    secrets = [(path, identity(path)) for path in (job["config"], job.get("keyFile")) if path]
    # Jupyter's runtime files hold the token too; a Jupyter that was killed leaves them behind.
    runtime = (job["runtimeDir"], identity(job["runtimeDir"]))
    try:
        return run(job)
    finally:
        for path, ident in secrets:
            remove_own(path, ident)
        if runtime[1] is not None and identity(runtime[0]) == runtime[1]:
            shutil.rmtree(runtime[0], ignore_errors=True)


def run(job):
    env = dict(os.environ)
    env["JUPYTER_RUNTIME_DIR"] = job["runtimeDir"]
    child = subprocess.Popen(list(job["command"]) + ["--config=" + job["config"]], env=env)

    def forward(signum, _frame):
        try:
            child.send_signal(signum)
        except OSError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(signum, forward)

    deadline = time.monotonic() + PORT_TIMEOUT_S
    port = None
    while child.poll() is None and time.monotonic() < deadline:
        ports = listening_ports(child.pid)
        if ports:
            port = ports[0]
            break
        time.sleep(0.1)
    if port is None:
        log("Jupyter did not listen" if child.poll() is None else "Jupyter exited before it listened")
        if child.poll() is None:
            child.terminate()
    else:
        report_port({"callbackUrl": job["callbackUrl"], "credential": job["credential"], "serverId": job["serverId"]}, port)
    job.pop("credential", None)
    code = child.wait()
    exit_code = code if code >= 0 else 128 - code
    try:
        fd = os.open(job["exitFile"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump({"code": exit_code, "at": int(time.time())}, f)
    except OSError as err:
        log("could not write the exit record: %s" % err)
    log("Jupyter exited with code %d" % exit_code)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
