-- wrk script for benches/soak.sh: each request carries the next header of
-- the rotation (files in SOAK_HEADERS, one value each); responses are
-- counted by status (200, 403, 431, other) and printed at the end.
local dir = os.getenv("SOAK_HEADERS")
local headers = {}
local p = io.popen('ls "' .. dir .. '"')
for name in p:lines() do
  local f = assert(io.open(dir .. "/" .. name, "rb"))
  headers[#headers + 1] = f:read("*a")
  f:close()
end
p:close()

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  n, s200, s403, s431, other = 0, 0, 0, 0, 0
end

function request()
  n = n + 1
  local h = headers[(n % #headers) + 1]
  return wrk.format("GET", "/cert-info", { ["x-forwarded-client-cert"] = h })
end

function response(status, headers, body)
  if status == 200 then s200 = s200 + 1
  elseif status == 403 then s403 = s403 + 1
  elseif status == 431 then s431 = s431 + 1
  else other = other + 1 end
end

function done(summary, latency, requests)
  local a, b, c, d = 0, 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("s200"); b = b + t:get("s403"); c = c + t:get("s431"); d = d + t:get("other")
  end
  io.write(string.format("STATUS headers=%d s200=%d s403=%d s431=%d other=%d\n", #headers, a, b, c, d))
  io.write(string.format("LATENCY p99_us=%d\n", latency:percentile(99)))
end
