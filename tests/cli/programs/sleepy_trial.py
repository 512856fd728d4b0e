"""A trial that takes a random short time, for the kill -9 test (tests/cli/resume_test.cpp).

usage: sleepy_trial.py X PID_DIR MIN_SECONDS MAX_SECONDS
Records its process id as a file in PID_DIR (so the test can check that no trial program outlives
a killed search), sleeps a random time in [MIN_SECONDS, MAX_SECONDS] and reports loss = X * X.
"""
import os
import random
import sys
import time

x = float(sys.argv[1])
pid_dir, low, high = sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
with open(os.path.join(pid_dir, str(os.getpid())), "w") as f:
    f.write(os.environ.get("QUARRY_TRIAL_NUMBER", "?"))
time.sleep(random.uniform(low, high))
print(f"quarry: loss={x * x!r}", flush=True)
