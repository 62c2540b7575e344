-- wrk script: POST /v1/decide with a new New York destination each time and
-- an instant that moves one simulated second every 200 requests (the server
-- runs with --clock event), starting 10:00 New York time on a Monday, so
-- calling hours stay open and numbers free up as their pacing gaps pass.
local counter = 0
local base = 1772463600 -- 2026-03-02T15:00:00Z
local headers = { ["Content-Type"] = "application/json" }

setup = function(thread)
  thread:set("seed", math.random(1, 1000000))
end

init = function(args)
  math.randomseed(seed or os.time())
end

request = function()
  counter = counter + 1
  local at = os.date("!%Y-%m-%dT%H:%M:%SZ", base + math.floor(counter / 200))
  -- Exchanges 220-999 without an x11: always a valid NANP number.
  local exchange = math.random(2, 9) * 100 + math.random(20, 99)
  local to = string.format("+1212%03d%04d", exchange, math.random(0, 9999))
  local body = string.format('{"pool":"bench","to":"%s","at":"%s"}', to, at)
  return wrk.format("POST", "/v1/decide", headers, body)
end

local allowed, denied, other = 0, 0, 0
response = function(status, headers, body)
  if status ~= 200 then
    other = other + 1
  elseif string.find(body, '"allow"', 1, true) then
    allowed = allowed + 1
  else
    denied = denied + 1
  end
end

done = function(summary, latency, requests)
  io.write(string.format("decide p50 %.0f us, p99 %.0f us, p99.9 %.0f us\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9)))
end
