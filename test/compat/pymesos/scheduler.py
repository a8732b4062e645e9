"""A pymesos scheduler driven against a Stratus master, the library unchanged.

Usage: scheduler.py HOST:PORT

It subscribes, launches two command tasks on one offer, acknowledges every update itself,
kills the long one, reconciles both, declines with a long refusal filter, suppresses, revives
(which must bring offers back despite the filter) and tears down. Progress goes to stdout as
JSON lines; the last one is {"done": true, ...}. Any error the library logs, any error
callback, or a scenario that does not finish within the watchdog makes it exit non-zero.
"""
import json
import logging
import os
import sys
import threading

from pymesos import MesosSchedulerDriver, Scheduler

errors = []


class Recorder(logging.Handler):
    def emit(self, record):
        if record.levelno >= logging.ERROR:
            errors.append(self.format(record))


logging.basicConfig(level=logging.INFO, stream=sys.stderr, format='%(levelname)s %(name)s %(message)s')
logging.getLogger().addHandler(Recorder())


def say(**fields):
    print(json.dumps(fields), flush=True)


def cpus_mem(cpus, mem):
    return [
        dict(name='cpus', type='SCALAR', scalar=dict(value=cpus)),
        dict(name='mem', type='SCALAR', scalar=dict(value=mem)),
    ]


class CompatScheduler(Scheduler):
    def __init__(self):
        self.stage = 'launch'
        self.states = {}
        self.reconciled = set()
        self.lock = threading.Lock()
        self.done = threading.Event()

    def registered(self, driver, framework_id, master_info):
        say(event='registered', framework_id=framework_id['value'], master_version=master_info.get('version'), driver_version=driver.version)

    def reregistered(self, driver, master_info):
        say(event='reregistered')

    def resourceOffers(self, driver, offers):
        with self.lock:
            ids = [o['id'] for o in offers]
            if self.stage == 'launch':
                first = offers[0]
                agent = first['agent_id']
                tasks = [
                    dict(name='done', task_id=dict(value='t-done'), agent_id=agent, resources=cpus_mem(0.1, 16), command=dict(value='echo hi')),
                    dict(name='long', task_id=dict(value='t-long'), agent_id=agent, resources=cpus_mem(0.1, 16), command=dict(value='serve forever')),
                ]
                driver.launchTasks([first['id']], tasks, filters=dict(refuse_seconds=1))
                if len(ids) > 1:
                    driver.declineOffer(ids[1:], filters=dict(refuse_seconds=1))
                self.stage = 'running'
                say(event='launched', agent_id=agent['value'])
            elif self.stage == 'decline':
                # A filter far longer than the test: only REVIVE can bring these agents back.
                driver.declineOffer(ids, filters=dict(refuse_seconds=3600))
                driver.suppressOffers()
                self.stage = 'revived'
                say(event='declined_and_suppressed', offers=len(ids))
                driver.reviveOffers()
            elif self.stage == 'revived':
                driver.declineOffer(ids)
                self.stage = 'teardown'
                say(event='offers_after_revive', offers=len(ids))
                self.done.set()
            else:
                driver.declineOffer(ids, filters=dict(refuse_seconds=1))

    def statusUpdate(self, driver, update):
        with self.lock:
            tid = update['task_id']['value']
            state = update['state']
            reason = update.get('reason')
            say(event='update', task_id=tid, state=state, reason=reason, has_uuid='uuid' in update)
            driver.acknowledgeStatusUpdate(update)
            if reason == 'REASON_RECONCILIATION':
                self.reconciled.add(tid)
                if self.stage == 'reconcile' and self.reconciled >= {'t-done', 't-long'}:
                    self.stage = 'decline'
                    say(event='reconciled', states={k: self.states[k] for k in sorted(self.states)})
                    # Offers were filtered for 1 s while tasks ran; revive to get them now.
                    driver.reviveOffers()
                return
            self.states[tid] = state
            if self.stage == 'running' and self.states.get('t-done') == 'TASK_FINISHED' and self.states.get('t-long') == 'TASK_RUNNING':
                self.stage = 'killing'
                driver.killTask(dict(value='t-long'))
                say(event='kill_sent')
            if self.stage == 'killing' and self.states.get('t-long') == 'TASK_KILLED':
                self.stage = 'reconcile'
                driver.reconcileTasks([dict(task_id=dict(value='t-done')), dict(task_id=dict(value='t-long'))])
                say(event='reconcile_sent')

    def error(self, driver, message):
        errors.append('error callback: %s' % message)
        self.done.set()


def main():
    master = sys.argv[1]
    sched = CompatScheduler()
    framework = dict(user=os.environ.get('USER', 'root'), name='pymesos-compat', hostname='localhost', roles=['*'], capabilities=[dict(type='MULTI_ROLE')])
    driver = MesosSchedulerDriver(sched, framework, master, use_addict=True, implicit_acknowledgements=False)
    watchdog = threading.Timer(float(os.environ.get('COMPAT_TIMEOUT_SECONDS', '60')), lambda: (errors.append('scenario timed out at stage %s' % sched.stage), sched.done.set()))
    watchdog.daemon = True
    watchdog.start()
    driver.start()
    sched.done.wait()
    driver.stop()  # not a failover: the driver sends TEARDOWN
    driver.join()
    watchdog.cancel()
    if errors:
        for e in errors:
            print(e, file=sys.stderr)
        say(done=False, errors=errors, stage=sched.stage)
        sys.exit(1)
    say(done=True, stage=sched.stage, driver_version=driver.version, states=sched.states)


if __name__ == '__main__':
    main()
