#!/bin/bash
# What starting 16 forks costs the processes serving them (docs/design/fork-supervisor.md):
#   bash bench/prototypes/cpu16.sh dist/bin/snapvm.js
# In a throwaway home: a 256M instance, a snapshot, `fork --count 16`, then the CPU (utime+stime) of every
# agent process of the forks (one each, or one for the group) right after the fork returned, of their QEMUs,
# and of the fork command itself; all deleted after. COUNT (default 16) sets the fan-out.
CLI=$1
export SNAPVM_HOME=$(mktemp -d /tmp/snapvm-cpu16-XXXX); ln -s ~/.snapvm/images $SNAPVM_HOME/images
S="node $CLI"
$S create src --memory 256M --disk 1G >/dev/null && $S start src >/dev/null && $S snapshot create src s1 >/dev/null && $S stop src >/dev/null
N=${COUNT:-16}
t0=$(date +%s.%N); /usr/bin/time -f "%U %S" -o $SNAPVM_HOME/cli.time $S fork src@s1 f --count $N --json >$SNAPVM_HOME/fork.json; t1=$(date +%s.%N)
of() { python3 -c "import json,sys;print(' '.join(str(f['started']['status'][sys.argv[2]]) for f in json.load(open(sys.argv[1]))['forks']))" $SNAPVM_HOME/fork.json $1; }
pids=$(of agentPid | tr ' ' '\n' | sort -u); qemus=$(of qemuPid); names=$(python3 -c "import json,sys;print(' '.join(f['name'] for f in json.load(open(sys.argv[1]))['forks']))" $SNAPVM_HOME/fork.json)
cpu() { local tot=0; for p in "$@"; do tot=$((tot + $(awk '{print $14+$15}' /proc/$p/stat))); done; echo "scale=2; $tot/100" | bc; }
echo "$CLI: fork ×$N $(echo "$t1-$t0" | bc) s, $(echo $pids | wc -w) agent process(es), agents' CPU $(cpu $pids) s, QEMUs' CPU $(cpu $qemus) s, the fork command's CPU $(awk '{print $1+$2}' $SNAPVM_HOME/cli.time) s"
for f in $names; do $S delete --force $f >/dev/null & done; wait; $S delete --force src >/dev/null; rm -rf $SNAPVM_HOME
