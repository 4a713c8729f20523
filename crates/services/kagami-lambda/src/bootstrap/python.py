# kagami's Python runtime: the Lambda Runtime API loop for a handler "module.function".
import importlib, json, os, sys, time, traceback, urllib.request

API = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"


def post(path, body, error_type=None):
    headers = {"Content-Type": "application/json"}
    if error_type:
        headers["Lambda-Runtime-Function-Error-Type"] = error_type
    req = urllib.request.Request(API + path, data=body, headers=headers, method="POST")
    urllib.request.urlopen(req).read()


def error_doc(exc):
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


def load_handler():
    spec = os.environ["_HANDLER"]
    module_name, _, function_name = spec.rpartition(".")
    sys.path.insert(0, os.environ["LAMBDA_TASK_ROOT"])
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except Exception as exc:
        kind = "Runtime.ImportModuleError"
        doc = {"errorMessage": f"Unable to import module '{module_name}': {exc}", "errorType": kind, "stackTrace": []}
        post("/init/error", json.dumps(doc).encode(), kind)
        sys.exit(1)
    handler = getattr(module, function_name, None)
    if handler is None:
        kind = "Runtime.HandlerNotFound"
        doc = {"errorMessage": f"Handler '{function_name}' missing on module '{module_name}'", "errorType": kind, "stackTrace": []}
        post("/init/error", json.dumps(doc).encode(), kind)
        sys.exit(1)
    return handler


def main():
    handler = load_handler()
    while True:
        with urllib.request.urlopen(API + "/invocation/next") as r:
            request_id = r.headers["Lambda-Runtime-Aws-Request-Id"]
            deadline = int(r.headers.get("Lambda-Runtime-Deadline-Ms", "0"))
            arn = r.headers.get("Lambda-Runtime-Invoked-Function-Arn")
            client_context = r.headers.get("Lambda-Runtime-Client-Context")
            os.environ["_X_AMZN_TRACE_ID"] = r.headers.get("Lambda-Runtime-Trace-Id", "")
            raw = r.read()
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
