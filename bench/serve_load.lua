-- wrk script for bench/serve_compare.sh: POST /v1/<resource> or GET /v1/<resource>/<id>
-- against `s3db serve`, in the shape of `s3db bench`'s users (tools/s3db/bench.cc).
--
--   S3DB_SERVE_MODE=post  each thread inserts ids u<thread>x<n>, n = 0, 1, 2, ...; at the end
--                         the range of n every thread surely wrote goes to $S3DB_SERVE_IDS_FILE
--   S3DB_SERVE_MODE=get   reads random ids among those the post run wrote (that file)
-- S3DB_SERVE_RESOURCE names the resource (default users). Any answer other than 201 (post)
-- or 200 (get) is counted and printed by done(): the run is not valid with one.
local mode = os.getenv("S3DB_SERVE_MODE") or "get"
local resource = os.getenv("S3DB_SERVE_RESOURCE") or "users"
local ids_file = os.getenv("S3DB_SERVE_IDS_FILE") or "/tmp/s3db-serve-ids"

local threads = {}
local next_thread = 0

function setup(thread)
  thread:set("thread_index", next_thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
end

local countries = {"BR", "US", "DE", "JP", "FR", "IN", "CA", "AU"}
local cities = {"Sao Paulo", "New York", "Berlin", "Tokyo", "Paris", "Mumbai", "Toronto", "Sydney"}
local first = {"Ana", "Bruno", "Carla", "Diego", "Elena", "Felipe", "Gabriela", "Hugo"}
local tags = {"alpha", "beta", "gamma", "delta"}

-- Per thread (wrk gives each thread its own Lua state); globals, so done() can read them
-- with thread:get.
sent = 0
bad = 0
bad_status = 0  -- the last unexpected status, for the JSON line
local readable = {}  -- get: how many ids of each post thread exist

local function record(id, i)
  local k = i % 8 + 1
  local tag_list = {}
  for t = 1, i % 4 do tag_list[t] = '"' .. tags[t] .. '"' end
  local bio = ""
  if i % 2 == 0 then bio = ',"bio":"User ' .. i .. ' likes ' .. tags[i % 4 + 1] .. '; member since 2011."' end
  return '{"id":"' .. id .. '","name":"' .. first[k] .. ' Silva","email":"' .. string.lower(first[k]) .. '.' .. id ..
         '@example.com","age":' .. (18 + i % 60) .. ',"active":' .. tostring(i % 3 ~= 0) .. ',"tags":[' ..
         table.concat(tag_list, ",") .. '],"address":{"city":"' .. cities[k] .. '","country":"' .. countries[k] ..
         '"},"password":"pw-' .. string.format("%08x", (i * 2654435761) % 4294967296) .. '"' .. bio .. '}'
end

function init(args)
  math.randomseed(os.time() + thread_index)
  if mode == "get" then
    local f = assert(io.open(ids_file, "r"), "no ids file " .. ids_file .. ": run the post mode first")
    for line in f:lines() do
      local t, first, last = line:match("^(%d+) (%d+) (%d+)$")
      if t then table.insert(readable, {tonumber(t), tonumber(first), tonumber(last)}) end
    end
    f:close()
  end
end

function request()
  if mode == "post" then
    local id = "u" .. thread_index .. "x" .. sent
    local body = record(id, sent + 1000 * thread_index)
    sent = sent + 1
    return wrk.format("POST", "/v1/" .. resource, {["Content-Type"] = "application/json"}, body)
  end
  local pick = readable[math.random(#readable)]
  sent = sent + 1
  return wrk.format("GET", "/v1/" .. resource .. "/u" .. pick[1] .. "x" .. math.random(pick[2], pick[3]))
end

function response(status, headers, body)
  local expected = mode == "post" and 201 or 200
  if status ~= expected then
    bad = bad + 1
    bad_status = status
  end
end

function done(summary, latency, requests)
  local failed, status = 0, 0
  for _, thread in ipairs(threads) do
    failed = failed + (thread:get("bad") or 0)
    if (thread:get("bad_status") or 0) ~= 0 then status = thread:get("bad_status") end
  end
  if mode == "post" then
    -- Some ids of each connection were made by request() but never sent (wrk calls it
    -- once before the first request it sends: u<thread>x0 is never written), or were in
    -- flight when the run stopped. Leave out two per connection at each end.
    local connections = tonumber(os.getenv("S3DB_SERVE_CONNECTIONS") or "1")
    local slack = 2 * math.ceil(connections / #threads)
    local f = assert(io.open(ids_file, "w"))
    for _, thread in ipairs(threads) do
      local last = (thread:get("sent") or 0) - slack
      if last > slack then f:write(thread:get("thread_index") .. " " .. slack .. " " .. last .. "\n") end
    end
    f:close()
  end
  io.write(string.format('{"mode":"%s","requests":%d,"seconds":%.3f,"rps":%.1f,"p50_ms":%.3f,"p99_ms":%.3f,' ..
                         '"unexpected":%d,"unexpected_status":%d,"socket_errors":%d}\n', mode, summary.requests, summary.duration / 1e6,
                         summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000,
                         latency:percentile(99) / 1000, failed, status,
                         summary.errors.connect + summary.errors.read + summary.errors.write +
                         summary.errors.timeout))
end
