"""A trial that runs until told to hurry, for the Ctrl-C test (tests/cli/resume_test.cpp).

usage: waiting_trial.py X MARKER_DIR [stubborn | with_child]
Creates MARKER_DIR/started.<trial number> (holding its process id) once it runs, then, unless the
file MARKER_DIR/fast exists, sleeps for a minute (the test interrupts it long before); reports
loss = X. With "stubborn" it ignores SIGTERM, as a program busy in native code may. With
"with_child" it first starts `sleep 120` and writes its process id to MARKER_DIR/child.<number>.
"""
import os
import signal
import subprocess
import sys
import time

x = float(sys.argv[1])
marker_dir = sys.argv[2]
if sys.argv[3:] == ["stubborn"]:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
number = os.environ["QUARRY_TRIAL_NUMBER"]
if sys.argv[3:] == ["with_child"]:
    child = subprocess.Popen(["sleep", "120"])
    with open(os.path.join(marker_dir, "child." + number), "w") as f:
        f.write(str(child.pid))
marker = os.path.join(marker_dir, "started." + number)
with open(marker + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(marker + ".tmp", marker)  # the test sees the whole file or none
if not os.path.exists(os.path.join(marker_dir, "fast")):
    time.sleep(60)
print(f"quarry: loss={x!r}", flush=True)
