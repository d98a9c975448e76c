#!/bin/bash
# What starting 16 forks costs the processes serving them (docs/design/fork-supervisor.md):
#   bash bench/prototypes/cpu16.sh dist/bin/snapvm.js
# In a throwaway home: a 256M instance, a snapshot, `fork --count 16`, then the CPU (utime+stime) of every
# agent process of the forks (one each, or one for the group) right after the fork returned; all deleted after.
CLI=$1
export SNAPVM_HOME=$(mktemp -d /tmp/snapvm-cpu16-XXXX); ln -s ~/.snapvm/images $SNAPVM_HOME/images
S="node $CLI"
$S create src --memory 256M --disk 1G >/dev/null && $S start src >/dev/null && $S snapshot create src s1 >/dev/null && $S stop src >/dev/null
t0=$(date +%s.%N); $S fork src@s1 f --count 16 >/dev/null; t1=$(date +%s.%N)
pids=$(for i in $(seq 1 16); do cat $SNAPVM_HOME/instances/f-$i/agent.lock; echo; done | sort -u)
tot=0; for p in $pids; do c=$(awk '{print $14+$15}' /proc/$p/stat); tot=$((tot+c)); done
echo "$CLI: fork $(echo "$t1-$t0" | bc) s, $(echo $pids | wc -w) agent process(es), agents' CPU $(echo "scale=2; $tot/100" | bc) s"
for i in $(seq 1 16); do $S delete --force f-$i >/dev/null & done; wait; $S delete --force src >/dev/null; rm -rf $SNAPVM_HOME
