"""A custom executor on pymesos's MesosExecutorDriver, unchanged, for Stratus's executor API tests.

Each task's data (base64) says what to do:
  finish  send TASK_RUNNING, a framework message "hello:<task>", then TASK_FINISHED
  wait    send TASK_RUNNING and "hello:<task>", then wait for the framework
Framework messages: "finish:<task>" finishes that task, "exit" makes the executor exit(3) at once;
every message is echoed back as "echo:<message>". A KILL ends the task TASK_KILLED.
Anything the library reports as an error is printed as EXECUTOR-ERROR (the test looks for it).
"""
import logging
import os
import sys
import threading

from pymesos import Executor, MesosExecutorDriver, decode_data, encode_data

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
log = logging.getLogger('test-executor')


def say(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


class TestExecutor(Executor):
    def __init__(self):
        self.running = {}
        self.lock = threading.Lock()

    def registered(self, driver, executor_info, framework_info, agent_info):
        say('registered %s on %s' % (executor_info['executor_id']['value'], agent_info['id']['value']))

    def reregistered(self, driver, agent_info):
        say('reregistered on %s' % agent_info['id']['value'])

    def disconnected(self, driver):
        say('disconnected')

    def update(self, driver, task_id, state):
        driver.sendStatusUpdate(dict(task_id=task_id, state=state))

    def launchTask(self, driver, task):
        task_id = task['task_id']
        name = task_id['value']
        mode = decode_data(task.get('data', '')).decode('utf-8')
        say('launch %s %s' % (name, mode))

        def run():
            self.update(driver, task_id, 'TASK_RUNNING')
            driver.sendFrameworkMessage(encode_data(('hello:%s' % name).encode('utf-8')))
            if mode == 'finish':
                self.update(driver, task_id, 'TASK_FINISHED')
            else:
                with self.lock:
                    self.running[name] = task_id

        threading.Thread(target=run).start()

    def killTask(self, driver, task_id):
        say('kill %s' % task_id['value'])
        with self.lock:
            self.running.pop(task_id['value'], None)
        self.update(driver, task_id, 'TASK_KILLED')

    def frameworkMessage(self, driver, message):
        text = decode_data(message).decode('utf-8')
        say('message %s' % text)
        driver.sendFrameworkMessage(encode_data(('echo:%s' % text).encode('utf-8')))
        if text == 'exit':
            os._exit(3)
        if text.startswith('finish:'):
            with self.lock:
                task_id = self.running.pop(text[len('finish:'):], None)
            if task_id is not None:
                self.update(driver, task_id, 'TASK_FINISHED')

    def shutdown(self, driver):
        say('shutdown')

    def error(self, driver, message):
        say('EXECUTOR-ERROR %s' % message)


if __name__ == '__main__':
    driver = MesosExecutorDriver(TestExecutor(), use_addict=True)
    driver.run()
    say('driver stopped')
