-- The wrk script for every HTTP scenario of bench/bench.py; the scenario and its settings come
-- from the environment. done() prints one JSON line that bench.py reads.
--   SCENARIO=get      GET /api/v1/cadres/{random id in 1..HIGHEST_ID}
--   SCENARIO=paths    GET a random line of the file PATHS
--   SCENARIO=write    per thread (one connection each): GET cadre {thread number} for its ETag,
--                     then PATCH it with If-Match, taking the new ETag from each answer
--   SCENARIO=login    POST /api/v1/auth/login with LOGIN_BODY
local scenario = os.getenv("SCENARIO")
local token = os.getenv("TOKEN")
local highest = tonumber(os.getenv("HIGHEST_ID") or "1")
local threads_started = 0

function setup(thread)
  threads_started = threads_started + 1
  thread:set("thread_number", threads_started)
end

function init(args)
  math.randomseed(os.time() * 1000 + thread_number)
  auth = { ["Authorization"] = "Bearer " .. (token or "") }
  paths = {}
  if os.getenv("PATHS") then
    for line in io.lines(os.getenv("PATHS")) do
      paths[#paths + 1] = line
    end
  end
  etag = nil
end

function request()
  if scenario == "get" then
    return wrk.format("GET", "/api/v1/cadres/" .. math.random(1, highest), auth)
  elseif scenario == "paths" then
    return wrk.format("GET", paths[math.random(1, #paths)], auth)
  elseif scenario == "write" then
    local path = "/api/v1/cadres/" .. thread_number
    if etag == nil then
      return wrk.format("GET", path, auth)
    end
    local headers = {
      ["Authorization"] = auth["Authorization"],
      ["Content-Type"] = "application/json",
      ["If-Match"] = etag,
    }
    return wrk.format("PATCH", path, headers, '{"notes": "bench ' .. math.random(1, 1000000000) .. '"}')
  elseif scenario == "login" then
    return wrk.format("POST", "/api/v1/auth/login", { ["Content-Type"] = "application/json" },
      os.getenv("LOGIN_BODY"))
  end
end

function response(status, headers, body)
  if scenario == "write" then
    if status == 200 then
      etag = headers["etag"] or headers["ETag"]
    else
      etag = nil
    end
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": %d, "p50_us": %d, "p99_us": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.status + e.timeout,
    latency:percentile(50), latency:percentile(99)))
end
