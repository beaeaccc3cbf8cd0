-- HAProxy serves OpenAI chat clients against Gemini: `POST /v1/chat/completions` (whole or
-- streamed), with gemgate's translator and key pool through the Lua module gemgate.so.
--
-- Per request: translate the OpenAI body to the Gemini call → pick a pool key for the model →
-- call Gemini over a cosocket (core.tcp) → report the answer to the pool → on an invalid key,
-- quota or upstream fault try the next key → translate the answer, or pump the SSE stream
-- through the stream translator chunk by chunk.
--
-- The cosocket connects to the `gemini_upstream` listener of haproxy.cfg (a Unix socket), which
-- HAProxy forwards to Gemini with TLS and DNS: Lua cosockets cannot resolve names at runtime,
-- and this keeps TLS verification in HAProxy's configuration.
--
-- Environment (read once at load): GEMGATE_KEYS (comma-separated Gemini keys, required),
-- GEMGATE_CLIENT_TOKENS (comma-separated tokens clients must send as `Authorization: Bearer`;
-- unset = no client auth), GEMGATE_UPSTREAM_SOCKET (the Unix socket of gemini_upstream),
-- GEMGATE_UPSTREAM_HOST (Host header, default generativelanguage.googleapis.com),
-- GEMGATE_MAX_ATTEMPTS (keys tried per request, default 3), GEMGATE_UPSTREAM_TIMEOUT_S (60).
local gemgate = require("gemgate")

local function split(list)
  local out = {}
  for item in string.gmatch(list or "", "[^,%s]+") do out[#out + 1] = item end
  return out
end

local keys = split(os.getenv("GEMGATE_KEYS"))
if #keys == 0 then error("gemgate_service.lua: GEMGATE_KEYS is empty") end
local pool = gemgate.pool(keys)
keys = nil -- the pool holds them; nothing below needs the list
local client_tokens = {}
for _, t in ipairs(split(os.getenv("GEMGATE_CLIENT_TOKENS"))) do client_tokens[t] = true end
local upstream_socket = os.getenv("GEMGATE_UPSTREAM_SOCKET")
  or error("gemgate_service.lua: GEMGATE_UPSTREAM_SOCKET is not set")
local upstream_host = os.getenv("GEMGATE_UPSTREAM_HOST") or "generativelanguage.googleapis.com"
local max_attempts = math.tointeger(tonumber(os.getenv("GEMGATE_MAX_ATTEMPTS") or "3"))
if not max_attempts or max_attempts < 1 or max_attempts > 64 then
  error("gemgate_service.lua: GEMGATE_MAX_ATTEMPTS must be an integer from 1 to 64")
end
local upstream_timeout = tonumber(os.getenv("GEMGATE_UPSTREAM_TIMEOUT_S") or "60")
local RETRY = {key_invalid = true, quota = true, upstream_fault = true}

local function openai_error(status, message, type_, code)
  return status, string.format('{"error":{"message":%q,"type":%q,"param":null,"code":%q}}',
                               message, type_, code)
end

-- Client bytes go out in pieces well below tune.bufsize too.
local SEND_PIECE = 8192
local function send_all(applet, data)
  for at = 1, #data, SEND_PIECE do applet:send(data:sub(at, at + SEND_PIECE - 1)) end
end

local function reply(applet, status, body, extra_headers)
  applet:set_status(status)
  applet:add_header("content-type", "application/json")
  applet:add_header("content-length", tostring(#body))
  for name, value in pairs(extra_headers or {}) do applet:add_header(name, value) end
  applet:start_response()
  send_all(applet, body)
end

local function header(applet, name)
  local h = applet.headers[name]
  return h and h[0]
end

-- ---- the upstream call over a cosocket (HTTP/1.1, Connection: close) ----

-- Sends the call; returns the socket, status and lower-cased headers, or nil and an error
-- with `connected` (false: nothing reached Gemini).
local function call_upstream(x, key)
  local sock = core.tcp()
  sock:settimeout(upstream_timeout)
  local ok, err = sock:connect("unix@" .. upstream_socket)
  if not ok then return nil, "connect: " .. tostring(err), false end
  local body = x:body()
  local lines = {"POST " .. x:path() .. " HTTP/1.1", "Host: " .. upstream_host,
                 "x-goog-api-key: " .. key, "Content-Length: " .. #body, "Connection: close"}
  for name, value in pairs(x:headers()) do lines[#lines + 1] = name .. ": " .. value end
  if not sock:send(table.concat(lines, "\r\n") .. "\r\n\r\n" .. body) then
    sock:close()
    return nil, "send failed", false
  end
  local status_line = sock:receive("*l")
  local status = status_line and tonumber(status_line:match("^HTTP/1%.%d (%d%d%d)"))
  if not status then
    sock:close()
    -- The listener accepted, but nothing came back: Gemini was not reached (refused, TLS) or
    -- the connection broke. Treated as unreachable when there was no byte at all.
    return nil, "no HTTP answer", status_line ~= nil
  end
  local headers = {}
  while true do
    local line = sock:receive("*l")
    if line == nil then sock:close(); return nil, "truncated head", true end
    if line == "" then break end
    local name, value = line:match("^([^:]+):%s*(.-)%s*$")
    if name then headers[name:lower()] = value end
  end
  return sock, status, headers
end

-- Largest single cosocket read. HAProxy 2.6's socket:receive(n) waits until n bytes sit in its
-- buffer at once, so an n near tune.bufsize (16 kB by default) never completes: read in pieces
-- well below it, whatever the sizes of Gemini's chunks.
local READ_PIECE = 4096

-- Returns an iterator over the body's pieces as they arrive (chunked, Content-Length or until
-- close); each call gives a string, or nil at the end, or false plus an error when it broke.
local function body_reader(sock, headers)
  local chunked = (headers["transfer-encoding"] or ""):lower():find("chunked", 1, true)
  local left = tonumber(headers["content-length"] or "")
  local in_chunk = 0 -- bytes of the current chunk still to read
  local finished = false
  local function fail(why)
    finished = true
    return false, why
  end
  return function()
    if finished then return nil end
    if chunked then
      if in_chunk == 0 then
        local size_line = sock:receive("*l")
        local size = size_line and tonumber(size_line:match("^%x+"), 16)
        if not size then return fail("bad chunk size") end
        if size == 0 then
          repeat local trailer = sock:receive("*l") until trailer == nil or trailer == ""
          finished = true
          return nil
        end
        in_chunk = size
      end
      local data = sock:receive(math.min(in_chunk, READ_PIECE))
      if not data then return fail("truncated chunk") end
      in_chunk = in_chunk - #data
      if in_chunk == 0 and sock:receive("*l") ~= "" then return fail("bad chunk end") end
      return data
    elseif left then
      if left == 0 then finished = true; return nil end
      local data = sock:receive(math.min(left, READ_PIECE))
      if not data then return fail("truncated body") end
      left = left - #data
      return data
    else
      local data, _, partial = sock:receive(READ_PIECE)
      data = data or partial
      if data == nil or data == "" then finished = true; return nil end
      return data
    end
  end
end

local function read_all(sock, headers)
  local parts = {}
  for piece, err in body_reader(sock, headers) do
    if piece == false then return nil, err end
    parts[#parts + 1] = piece
  end
  return table.concat(parts)
end

-- ---- streaming the answer ----

-- Pumps Gemini's SSE through the stream translator to the client. The response head goes out
-- with the first client bytes, so a stream that fails before any (a Gemini error event first)
-- is answered as a plain HTTP error.
local function pump_stream(applet, x, sock, headers)
  local s = x:stream()
  local head_sent = false
  local function emit(bytes)
    if bytes == "" then return end
    if not head_sent then
      if s:done() and not s:started() then
        local status, body = s:error()
        if status then reply(applet, status, body); head_sent = true; return end
      end
      applet:set_status(200)
      applet:add_header("content-type", "text/event-stream")
      applet:add_header("cache-control", "no-cache")
      applet:start_response()
      head_sent = true
    end
    send_all(applet, bytes)
  end
  local read = body_reader(sock, headers)
  while not s:done() do
    local piece, err = read()
    if piece == nil then
      emit(s:finish())
    elseif piece == false then
      emit(s:fail(502, "the upstream stream broke: " .. tostring(err)))
    else
      emit(s:feed(piece))
    end
  end
  sock:close()
  s:close()
end

-- ---- the service ----

local function serve(applet)
  if applet.method ~= "POST" or not applet.path:match("^/v1/chat/completions/?$") then
    reply(applet, openai_error(404, "no route for " .. applet.method .. " " .. applet.path,
                               "invalid_request_error", "not_found"))
    return
  end
  if next(client_tokens) ~= nil then
    local auth = header(applet, "authorization") or ""
    local token = auth:match("^[Bb]earer%s+(%S+)$")
    if not token or not client_tokens[token] then
      reply(applet, openai_error(401, "invalid client token", "authentication_error",
                                 "invalid_api_key"))
      return
    end
  end
  local x = gemgate.exchange("openai_chat")
  local ok, status, body = x:request(applet:receive() or "")
  if not ok then reply(applet, status, body); return end
  local model = x:model()
  local tried = {}
  local last_status, last_body, last_retry, last_kind
  for _ = 1, max_attempts do
    local id, key, retry_ms = pool:pick(model, tried)
    if not id then
      -- After a quota or upstream answer, that answer is the most useful one; an invalid key is
      -- the operator's problem, not the client's credential: a 503.
      if last_kind == "quota" or last_kind == "upstream_fault" then break end
      local extra = retry_ms and retry_ms > 0 and {["retry-after"] = tostring(math.ceil(retry_ms / 1000))}
      local st, b = openai_error(503, "no pool key can serve: " .. key, "server_error", "no_key")
      reply(applet, st, b, extra or nil)
      return
    end
    tried[#tried + 1] = id
    local sock, up_status, headers = call_upstream(x, key)
    if not sock then
      local err, connected = up_status, headers
      local outcome = pool:report_transport_failure(id, model, connected)
      last_kind = "upstream_fault"
      last_status, last_body = openai_error(502, "Gemini could not be reached: " .. err,
                                            "server_error", "upstream_unreachable")
      if outcome.outage then break end
    elseif up_status == 200 and x:is_stream() then
      pool:report(id, model, 200)
      pump_stream(applet, x, sock, headers)
      return
    else
      local data, err = read_all(sock, headers)
      sock:close()
      if not data then
        local outcome = pool:report_transport_failure(id, model, true)
        last_kind = "upstream_fault"
        last_status, last_body = openai_error(502, "the upstream answer broke: " .. err,
                                              "server_error", "upstream_error")
        if outcome.outage then break end
      else
        local outcome = pool:report(id, model, up_status, data)
        last_kind = outcome.kind
        last_status, last_body, last_retry = x:response(up_status, data)
        if not RETRY[outcome.kind] or outcome.outage then break end
      end
    end
  end
  local extra = last_retry and {["retry-after"] = tostring(math.ceil(last_retry / 1000))}
  reply(applet, last_status, last_body, extra or nil)
end

core.register_service("gemgate_openai", "http", serve)
