-- The Lua module gemgate.so on its own, in Debian's lua5.3 (CTest embed.lua): every method of
-- exchange, stream and pool, the nil-plus-details answers, the errors raised for wrong
-- arguments, closed handles, and handles freed by the garbage collector.
--
--   lua5.3 tests/embed/lua_module_test.lua build/capi/lua
package.cpath = assert(arg[1], "usage: lua_module_test.lua MODULE_DIR") .. "/?.so;" .. package.cpath
local gemgate = require("gemgate")

local failures = 0
local function check(cond, what)
  if not cond then
    failures = failures + 1
    io.stderr:write("FAIL: " .. what .. "\n")
  end
end
local function raises(fn, pattern, what)
  local ok, err = pcall(fn)
  check(not ok and tostring(err):find(pattern, 1, true) ~= nil,
        what .. " (got " .. tostring(ok) .. ", " .. tostring(err) .. ")")
end

check(gemgate.abi_version() == 1, "abi_version")
check(gemgate.version():match("^%d+%.%d+%.%d+$"), "version")

-- exchange
local x = gemgate.exchange("openai_chat")
x:set_response_id("chatcmpl-lua", 1700000000)
check(x:path() == nil, "no path before a request")
check(x:request('{"model":"gemini-2.5-flash","messages":[{"role":"user","content":"Hi"}]}') == true, "request")
check(x:path() == "/v1beta/models/gemini-2.5-flash:generateContent", "path")
check(x:headers()["Content-Type"] == "application/json", "headers")
check(x:model() == "gemini-2.5-flash" and x:is_stream() == false, "model, is_stream")
check(x:body():find('"text":"Hi"', 1, true), "body")
local status, body, retry = x:response(200, '{"candidates":[{"content":{"parts":[{"text":"Yo"}]},"finishReason":"STOP"}]}')
check(status == 200 and body:find('"content":"Yo"', 1, true) and body:find('"id":"chatcmpl-lua"', 1, true) and retry == nil, "response")
status, body, retry = x:response(429, '{"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"7s"}]}}')
check(status == 429 and retry == 7000 and body:find("rate_limit_error", 1, true), "error response with retry")
raises(function() x:set_upstream_model("../x") end, "invalid_argument", "set_upstream_model refuses a bad name")
local ok, st, err = x:request('{"model":"gemini-2.5-flash","messages":[{"role":"bogus","content":"x"}]}')
check(ok == nil and st == 400 and err:find("messages[0].role", 1, true), "rejected request")
raises(function() x:set_upstream_model("gemini-2.5-pro") end, "state", "nothing translated after a rejection")
raises(function() x:request({}) end, "string expected", "request(table)")
raises(function() gemgate.exchange("nope") end, "invalid option", "unknown front")
x:close()
raises(function() x:path() end, "closed", "a closed exchange")
x:close() -- twice is fine

-- stream, split at every byte
local sx = gemgate.exchange("anthropic_messages")
assert(sx:request('{"model":"claude-haiku-4-5","max_tokens":9,"stream":true,"messages":[{"role":"user","content":"Hi"}]}'))
sx:set_upstream_model("gemini-2.5-flash")
check(sx:path() == "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", "alias path")
sx:set_response_id("msg_lua")
local sse = 'data: {"candidates":[{"content":{"parts":[{"text":"caf\195\169 \228\184\150"}]}}]}\r\n\r\n' ..
            'data: {"candidates":[{"content":{"parts":[{"text":"!"}]},"finishReason":"STOP"}]}\r\n\r\n'
local function run(cut)
  local s = sx:stream()
  local out = s:feed(sse:sub(1, cut)) .. s:feed(sse:sub(cut + 1)) .. s:finish()
  check(s:done() and s:started() and s:error() == nil, "stream state at cut " .. cut)
  return out
end
local whole = run(#sse)
check(whole:find("message_stop", 1, true) and whole:find("caf\195\169 \228\184\150", 1, true), "stream output")
for cut = 0, #sse do check(run(cut) == whole, "split at " .. cut) end
local s = sx:stream()
local out = s:feed('data: {"error":{"code":503,"status":"UNAVAILABLE","message":"overloaded"}}\n\n')
local es, eb = s:error()
check(s:done() and not s:started() and (es == 529 or es == 503), "error event first: " .. tostring(es))
check(eb and eb:find('"type":"error"', 1, true) and out ~= "", "error body")
raises(function() gemgate.exchange("openai_chat"):stream() end, "state", "stream before a request")

-- pool
local keyA, keyB = "AIzaSyLuaKeyAAAAAAAAAAAAAAAAAAAAAAAAAAA", "AIzaSyLuaKeyBBBBBBBBBBBBBBBBBBBBBBBBBBB"
local pool = gemgate.pool({keyA, keyB}, '{"cooldown_default_ms":5000}')
local id1, k1 = pool:pick("gemini-2.5-flash")
local id2 = pool:pick("gemini-2.5-flash", {id1})
check(id1 ~= id2 and (k1 == keyA or k1 == keyB), "pick and exclude")
local o = pool:report(1, "gemini-2.5-flash", 400, '{"error":{"code":400,"status":"INVALID_ARGUMENT","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"API_KEY_INVALID"}]}}')
check(o.kind == "key_invalid" and o.http_status == 400 and o.outage == false and o.reason == "API_KEY_INVALID", "report key_invalid")
o = pool:report(2, "gemini-2.5-flash", 429, "{}", nil, 1800000000000)
check(o.kind == "quota" and o.retry_delay_ms == -1, "report quota")
local none, why, after = pool:pick("gemini-2.5-flash", nil, 1800000000001)
check(none == nil and why:find("cooling", 1, true) and after > 0 and not why:find(keyB, 1, true),
      "no key: " .. tostring(why))
o = pool:report_transport_failure(2, "gemini-2.5-flash", false)
check(o.kind == "unreachable" and o.outage == true, "transport failure")
local health = pool:health()
check(health:find('"disabled":true', 1, true) and not health:find(keyA, 1, true) and not health:find(keyB, 1, true), "health")
raises(function() pool:report(9, "m", 200) end, "not_found", "unknown key id")
raises(function() gemgate.pool({"short"}) end, "key 1", "a bad key")
raises(function() gemgate.pool({keyA}, '{"bogus":1}') end, "bogus", "a bad policy")
raises(function() pool:pick("m", {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65}) end, "at most 64", "too many exclusions")

-- handles left to the garbage collector
for _ = 1, 200 do
  local e = gemgate.exchange("openai_responses")
  e:request('{"model":"gemini-2.5-flash","input":"Hi","stream":true}')
  e:stream():feed("data: {}\n\n")
end
collectgarbage()
collectgarbage()

if failures > 0 then
  io.stderr:write(failures .. " check(s) failed\n")
  os.exit(1)
end
print("lua module: all checks passed")
