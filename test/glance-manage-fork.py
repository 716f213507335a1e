# A fork server for the tests' glance-manage runs (issue 30; test/glance-manage.ts).
#
# A glance-manage run spends ~1.3 s of its ~1.4 s CPU importing Glance, oslo
# and Alembic. This process runs under the script's own interpreter (its
# shebang), imports what the script imports by executing the script itself
# with a __name__ other than '__main__', then listens on a Unix socket. For
# each request it forks; the child takes the request's argv, cwd, stdout and
# stderr files (stdin: /dev/null, as spawnSync's empty pipe) and runs the
# script again as '__main__' (its imports are already loaded; it calls
# sys.exit(main())), at the top level of this file, so the interpreter's own
# exit handling gives the exit code (SystemExit's code; an exception prints its
# traceback and exits 1), runs atexit handlers and flushes, as in a real run.
# The parent answers the request with "exit N" (or "signal N") once the child
# has ended, and serves requests one at a time.
#
# argv: SCRIPT SOCKET. The socket appears once the imports are done; the
# server exits when its parent (the test process) is gone.
import gc
import json
import os
import runpy
import socket
import sys

script, path = sys.argv[1], sys.argv[2]
parent = os.getppid()
sys.argv = [script]
runpy.run_path(script, run_name='__glance_manage_fork__')
# What the imports made stays out of the children's garbage collections, so a
# child does not copy every page of it (Python's recipe for fork servers).
gc.freeze()

server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path + '.tmp')
os.rename(path + '.tmp', path)
server.listen(4)
server.settimeout(1.0)
request = None
while True:
    try:
        conn, _ = server.accept()
    except socket.timeout:
        if os.getppid() != parent:
            sys.exit(0)
        continue
    conn.settimeout(None)
    data = b''
    while not data.endswith(b'\n'):
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    try:
        request = json.loads(data)
    except ValueError:
        conn.close()
        continue
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        break
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        answer = 'signal %d\n' % os.WTERMSIG(status)
    else:
        answer = 'exit %d\n' % os.WEXITSTATUS(status)
    try:
        conn.sendall(answer.encode())
    except OSError:
        pass
    conn.close()
    request = None

# The child: one glance-manage run.
server.close()
conn.close()
null = os.open(os.devnull, os.O_RDONLY)
out = os.open(request['stdout'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
err = os.open(request['stderr'], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
os.dup2(null, 0)
os.dup2(out, 1)
os.dup2(err, 2)
for fd in (null, out, err):
    os.close(fd)
os.chdir(request['cwd'])
sys.argv = [script] + request['args']
del gc, json, os, runpy, socket, server, conn, data, request, parent, path, null, out, err
__import__('runpy').run_path(script, run_name='__main__')
