"""A pymesos scheduler, the library unchanged, following a stream that ends and resubscribing.

Usage: stream_resubscribe.py HOST:PORT

It subscribes, launches one task on the first offer and declines the rest (launching again,
under a new id, if an offer withdrawn by a resubscription drops it), acknowledges every
update itself, and waits for the task's TASK_FINISHED. The master's stream ends on purpose
(the streaming Lambda's time limit): pymesos reconnects and resubscribes with its framework id
on its own, which is what this exercises. Progress goes to stdout as JSON lines (each printed
after the driver call it reports returned); the last one is {"done": true, ...}. Any error the
library logs, any error callback, or a scenario that does not finish within the watchdog makes
it exit non-zero.
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


class StreamScheduler(Scheduler):
    def __init__(self):
        self.launched = False
        self.attempt = 0
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.updates = []

    def registered(self, driver, framework_id, master_info):
        say(event='registered', framework_id=framework_id['value'])

    def reregistered(self, driver, master_info):
        say(event='reregistered', framework_id=driver.framework_id)

    def disconnected(self, driver):
        say(event='disconnected')

    def resourceOffers(self, driver, offers):
        with self.lock:
            ids = [o['id'] for o in offers]
            if not self.launched:
                first = offers[0]
                # A new id per attempt: an offer withdrawn by a resubscription drops the launch.
                self.attempt += 1
                task = dict(
                    name='stream', task_id=dict(value='t-stream-%d' % self.attempt), agent_id=first['agent_id'],
                    resources=[dict(name='cpus', type='SCALAR', scalar=dict(value=0.1)), dict(name='mem', type='SCALAR', scalar=dict(value=16))],
                    command=dict(value='serve until the test ends it'),
                )
                driver.launchTasks([first['id']], [task])
                if len(ids) > 1:
                    driver.declineOffer(ids[1:], filters=dict(refuse_seconds=3600))
                self.launched = True
                say(event='launched', offers=len(ids))
            else:
                driver.declineOffer(ids, filters=dict(refuse_seconds=3600))
                say(event='declined', offers=len(ids))

    def statusUpdate(self, driver, update):
        with self.lock:
            driver.acknowledgeStatusUpdate(update)
            state = update['state']
            self.updates.append(state)
            say(event='update', task_id=update['task_id']['value'], state=state, has_uuid='uuid' in update)
            if state == 'TASK_FINISHED':
                self.done.set()
            elif state in ('TASK_DROPPED', 'TASK_LOST', 'TASK_ERROR', 'TASK_FAILED') and update['task_id']['value'] == 't-stream-%d' % self.attempt:
                self.launched = False
                driver.reviveOffers()

    def error(self, driver, message):
        errors.append('error callback: %s' % message)
        self.done.set()


def main():
    master = sys.argv[1]
    sched = StreamScheduler()
    framework = dict(user=os.environ.get('USER', 'root'), name='pymesos-stream', hostname='localhost', roles=['*'], failover_timeout=60)
    driver = MesosSchedulerDriver(sched, framework, master, use_addict=True, implicit_acknowledgements=False)
    watchdog = threading.Timer(float(os.environ.get('COMPAT_TIMEOUT_SECONDS', '90')), lambda: (errors.append('scenario timed out after updates %s' % sched.updates), sched.done.set()))
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
        say(done=False, errors=errors)
        sys.exit(1)
    say(done=True, updates=sched.updates)


if __name__ == '__main__':
    main()
