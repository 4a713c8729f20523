// kagami's Node.js runtime: the Lambda Runtime API loop for a handler "file.function".
"use strict";
const http = require("http");
const path = require("path");
const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const BASE = "/2018-06-01/runtime";

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: BASE + p, headers: headers || {} }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

function errorDoc(err) {
  const e = err instanceof Error ? err : new Error(String(err));
  const stack = (e.stack || "").split("\n").slice(1).map((l) => l.trim());
  return { errorType: e.name || "Error", errorMessage: e.message, trace: stack, stackTrace: stack };
}

async function loadHandler() {
  const spec = process.env._HANDLER;
  const dot = spec.lastIndexOf(".");
  const modulePath = spec.slice(0, dot);
  const fnName = spec.slice(dot + 1);
  const root = process.env.LAMBDA_TASK_ROOT;
  let mod;
  try {
    const fs = require("fs");
    const base = path.resolve(root, modulePath);
    const candidates = [base + ".js", base + ".cjs", base + ".mjs"];
    const found = candidates.find((c) => fs.existsSync(c));
    if (found && found.endsWith(".mjs")) {
      mod = await import("file://" + found);
    } else {
      try {
        mod = require(found || base);
      } catch (e) {
        if (e.code === "ERR_REQUIRE_ESM") mod = await import("file://" + (found || base));
        else throw e;
      }
    }
  } catch (e) {
    const kind = e.code === "MODULE_NOT_FOUND" ? "Runtime.ImportModuleError" : "Runtime.UserCodeSyntaxError";
    const doc = { errorType: kind, errorMessage: `Error: Cannot find module '${modulePath}'`, stackTrace: [] };
    if (kind !== "Runtime.ImportModuleError") doc.errorMessage = String(e);
    initError(doc);
    await request("POST", "/init/error", JSON.stringify(doc), { "Lambda-Runtime-Function-Error-Type": kind });
    process.exit(1);
  }
  const handler = mod[fnName] || (mod.default && mod.default[fnName]);
  if (typeof handler !== "function") {
    const kind = "Runtime.HandlerNotFound";
    const doc = { errorType: kind, errorMessage: `${modulePath}.${fnName} is undefined or not exported`, stackTrace: [] };
    initError(doc);
    await request("POST", "/init/error", JSON.stringify(doc), { "Lambda-Runtime-Function-Error-Type": kind });
    process.exit(1);
  }
  return handler;
}

// The line Lambda's Node.js runtime logs for an error during init (no request yet).
function initError(doc) {
  console.error(`${new Date().toISOString()}\tundefined\tERROR\tUncaught Exception \t${JSON.stringify(doc)}`);
}

function invoke(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      err ? reject(err) : resolve(result);
    };
    context.done = callback;
    context.succeed = (r) => callback(null, r);
    context.fail = (e) => callback(e);
    try {
      const out = handler(event, context, callback);
      if (out && typeof out.then === "function") {
        out.then((r) => callback(null, r), (e) => callback(e));
      } else if (handler.length < 3) {
        callback(null, out);
      }
    } catch (e) {
      callback(e);
    }
  });
}

async function main() {
  const handler = await loadHandler();
  for (;;) {
    const next = await request("GET", "/invocation/next");
    const h = next.headers;
    const requestId = h["lambda-runtime-aws-request-id"];
    const deadline = Number(h["lambda-runtime-deadline-ms"] || 0);
    process.env._X_AMZN_TRACE_ID = h["lambda-runtime-trace-id"] || "";
    const context = {
      functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
      functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
      invokedFunctionArn: h["lambda-runtime-invoked-function-arn"],
      memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
      awsRequestId: requestId,
      logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
      logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
      clientContext: h["lambda-runtime-client-context"] ? JSON.parse(h["lambda-runtime-client-context"]) : undefined,
      callbackWaitsForEmptyEventLoop: true,
      getRemainingTimeInMillis: () => Math.max(deadline - Date.now(), 0),
    };
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString("utf8")) : {};
    } catch (e) {
      event = next.body.toString("utf8");
    }
    try {
      const result = await invoke(handler, event, context);
      const body = result === undefined ? "null" : JSON.stringify(result);
      await request("POST", `/invocation/${requestId}/response`, body);
    } catch (err) {
      const doc = errorDoc(err);
      console.error(`${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(doc)}`);
      await request("POST", `/invocation/${requestId}/error`, JSON.stringify(doc), {
        "Lambda-Runtime-Function-Error-Type": "Unhandled",
      });
    }
  }
}

main();
