-- Counts wrk's answers by HTTP status. wrk alone only says "Non-2xx or 3xx responses: N", which once made
-- a run of fast 401s (an expired token) look like a storm of 503s.
--
--   wrk -t2 -c200 -d15s -s benches/wrk-status.lua -H "Authorization: Bearer $TOKEN" $URL
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  statuses = {}
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("statuses")) do
      total[k] = (total[k] or 0) + v
    end
  end
  for k, v in pairs(total) do
    io.write(string.format("status %d: %d\n", k, v))
  end
end
