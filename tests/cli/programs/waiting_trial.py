"""A trial that runs until told to hurry, for the Ctrl-C test (tests/cli/resume_test.cpp).

usage: waiting_trial.py X MARKER_DIR [stubborn]
Creates MARKER_DIR/started.<trial number> (holding its process id) once it runs, then, unless the
file MARKER_DIR/fast exists, sleeps for a minute (the test interrupts it long before); reports
loss = X. With "stubborn" it ignores SIGTERM, as a program busy in native code may.
"""
import os
import signal
import sys
import time

x = float(sys.argv[1])
marker_dir = sys.argv[2]
if sys.argv[3:] == ["stubborn"]:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
number = os.environ["QUARRY_TRIAL_NUMBER"]
marker = os.path.join(marker_dir, "started." + number)
with open(marker + ".tmp", "w") as f:
    f.write(str(os.getpid()))
os.rename(marker + ".tmp", marker)  # the test sees the whole file or none
if not os.path.exists(os.path.join(marker_dir, "fast")):
    time.sleep(60)
print(f"quarry: loss={x!r}", flush=True)
