#!/bin/sh
# A trial whose learning curve is worse the larger X is, for the pruning test
# (tests/cli/quickstart_test.cpp). usage: steps.sh X
# At step s (1..4) it reports loss = 10 X + 4 - s, and finally loss = 10 X.
x=$1
for step in 1 2 3 4; do
  echo "quarry: step=$step loss=$((10 * x + 4 - step))"
done
echo "quarry: loss=$((10 * x))"
