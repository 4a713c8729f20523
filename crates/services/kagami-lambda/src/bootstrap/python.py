# kagami's Python runtime: the Lambda Runtime API loop for a handler "module.function".
#
# Cold starts pay for every import here, so only cheap modules load up front: the
# Runtime API is spoken over one keep-alive socket (urllib/http.client would pull in
# the email package), traceback loads on the first error.
#
# kagami starts the interpreter with -S -s (no site processing: .pth files that import
# things cost tens of milliseconds, and Lambda has no user site) and passes the
# interpreter's site directories as arguments: they go after the standard library, as
# in Lambda, so packages installed with the interpreter (boto3) still import.
import json, os, socket, sys, time

if len(sys.argv) > 1:
    sys.path.extend(p for p in sys.argv[1].split(os.pathsep) if p and p not in sys.path)
    del sys.argv[1:]
if sys.flags.no_site:
    import site

    # The builtins site processing would have added (exit, quit, help, copyright...).
    site.setquit()
    site.setcopyright()
    site.sethelper()

_HOST, _, _PORT = os.environ["AWS_LAMBDA_RUNTIME_API"].rpartition(":")
_PREFIX = "/2018-06-01/runtime"


class _Api:
    """HTTP/1.1 to the Runtime API over one connection, reopened if it drops."""

    def __init__(self):
        self.sock = None
        self.file = None

    def _connect(self):
        self.sock = socket.create_connection((_HOST, int(_PORT)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.file = self.sock.makefile("rb")

    def _close(self):
        for c in (self.file, self.sock):
            try:
                c.close()
            except Exception:
                pass
        self.sock = self.file = None

    def request(self, method, path, body=b"", headers=()):
        for attempt in (0, 1):
            if self.sock is None:
                self._connect()
            try:
                return self._exchange(method, path, body, headers)
            except (OSError, ValueError):
                self._close()
                if attempt:
                    raise

    def _exchange(self, method, path, body, headers):
        head = f"{method} {_PREFIX}{path} HTTP/1.1\r\nHost: {_HOST}\r\nContent-Length: {len(body)}\r\n"
        for name, value in headers:
            head += f"{name}: {value}\r\n"
        self.sock.sendall(head.encode("latin-1") + b"\r\n" + body)
        status = self.file.readline()
        if not status:
            raise ValueError("connection closed")
        fields = {}
        while True:
            line = self.file.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            fields[name.strip().lower()] = value.strip()
        length = fields.get("content-length")
        if length is not None:
            data = self.file.read(int(length))
        elif fields.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.file.readline().split(b";")[0], 16)
                chunk = self.file.read(size + 2)
                if size == 0:
                    while chunk not in (b"\r\n", b"\n", b""):
                        chunk = self.file.readline()
                    break
                data += chunk[:-2]
        else:
            data = self.file.read()
            self._close()
        if fields.get("connection", "").lower() == "close":
            self._close()
        return fields, data


_api = _Api()


def post(path, body, error_type=None):
    headers = [("Content-Type", "application/json")]
    if error_type:
        headers.append(("Lambda-Runtime-Function-Error-Type", error_type))
    _api.request("POST", path, body, headers)


def error_doc(exc):
    import traceback

    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "requestId": "",
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)[1:]),
    }


class ClientContext:
    def __init__(self, doc):
        self.client = doc.get("client")
        self.custom = doc.get("custom")
        self.env = doc.get("env")


class Context:
    def __init__(self, request_id, deadline_ms, arn, client_context=None):
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = arn
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = ClientContext(json.loads(client_context)) if client_context else None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self):
        return max(self._deadline_ms - int(time.time() * 1000), 0)


def init_error(doc):
    """What Lambda's Python runtime logs when the handler cannot be loaded."""
    print(f"[ERROR] {doc['errorType']}: {doc['errorMessage']}\nTraceback (most recent call last):", file=sys.stderr, flush=True)


def load_handler():
    spec = os.environ["_HANDLER"]
    module_name, _, function_name = spec.rpartition(".")
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    try:
        import importlib

        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:
        kind = "Runtime.ImportModuleError"
        doc = {"errorMessage": f"Unable to import module '{module_name}': {exc}", "errorType": kind, "requestId": "", "stackTrace": []}
        init_error(doc)
        post("/init/error", json.dumps(doc).encode(), kind)
        sys.exit(1)
    handler = getattr(module, function_name, None)
    if handler is None:
        kind = "Runtime.HandlerNotFound"
        doc = {"errorMessage": f"Handler '{function_name}' missing on module '{module_name}'", "errorType": kind, "requestId": "", "stackTrace": []}
        init_error(doc)
        post("/init/error", json.dumps(doc).encode(), kind)
        sys.exit(1)
    return handler


def main():
    handler = load_handler()
    while True:
        fields, raw = _api.request("GET", "/invocation/next")
        request_id = fields.get("lambda-runtime-aws-request-id", "")
        deadline = int(fields.get("lambda-runtime-deadline-ms", "0"))
        arn = fields.get("lambda-runtime-invoked-function-arn")
        client_context = fields.get("lambda-runtime-client-context")
        os.environ["_X_AMZN_TRACE_ID"] = fields.get("lambda-runtime-trace-id", "")
        try:
            event = json.loads(raw) if raw else {}
            result = handler(event, Context(request_id, deadline, arn, client_context))
        except Exception as exc:
            doc = error_doc(exc)
            doc["requestId"] = request_id
            sys.stdout.flush()
            print("[ERROR] " + doc["errorType"] + ": " + doc["errorMessage"], file=sys.stderr, flush=True)
            post(f"/invocation/{request_id}/error", json.dumps(doc).encode(), "Unhandled")
            continue
        try:
            body = json.dumps(result).encode()
        except Exception as exc:
            kind = "Runtime.MarshalError"
            doc = {"errorMessage": f"Unable to marshal response: {exc}", "errorType": kind, "requestId": request_id, "stackTrace": []}
            post(f"/invocation/{request_id}/error", json.dumps(doc).encode(), kind)
            continue
        sys.stdout.flush()
        sys.stderr.flush()
        post(f"/invocation/{request_id}/response", body)


main()
