#!/bin/bash
# fork --count 16 of a 256M snapshot in a throwaway home, with the timings the fork command reports:
#   bash bench/prototypes/fork-timeline.sh dist/bin/snapvm.js
# the whole command, each fork from its start to ready as the CLI saw it, and QEMU start to ready as its agent saw it.
CLI=$1
export SNAPVM_HOME=$(mktemp -d /tmp/snapvm-tl-XXXX); ln -s ~/.snapvm/images $SNAPVM_HOME/images
S="node $CLI"
$S create src --memory 256M --disk 1G >/dev/null && $S start src >/dev/null && $S snapshot create src s1 >/dev/null && $S stop src >/dev/null
$S fork src@s1 f --count 16 --json > $SNAPVM_HOME/fork.json
python3 - $SNAPVM_HOME <<'PY'
import json,sys,glob
home=sys.argv[1]
d=json.load(open(home+'/fork.json'))
tot=sorted(round(f['started']['totalMs']) for f in d['forks'])
rdy=sorted(round(f['started']['status']['readyMs']) for f in d['forks'])
print('fork totalMs', d['totalMs'].__round__(), 'per-fork start→ready (CLI view) min/med/max', tot[0], tot[8], tot[-1], '; agent readyMs (QEMU→ready) min/med/max', rdy[0], rdy[8], rdy[-1])
PY
for i in $(seq 1 16); do $S delete --force f-$i >/dev/null & done; wait; $S delete --force src >/dev/null; rm -rf $SNAPVM_HOME
