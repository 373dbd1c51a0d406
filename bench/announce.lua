-- wrk script for bench/tracker.sh: BEP 3 announce GETs from a few thousand simulated peers.
--
--   wrk -t2 -c50 -d10s -s bench/announce.lua http://127.0.0.1:PORT -- MODE PEERS HASHES...
--
-- MODE is `keep-alive` (wrk's default HTTP/1.1 connection reuse) or `close` (every request
-- carries `Connection: close`, so every request is a new TCP connection). Simulated peer i
-- (0 <= i < PEERS) announces to info-hash HASHES[i % #HASHES + 1] (40 hex digits each) from
-- port 10000 + i with peer_id `-BS0001-` and i in 12 digits, left=1000, compact=1, numwant=50.
-- Each request picks a peer at random. The request strings are built once per thread.
--
-- done() prints one machine-readable line that tracker.sh parses:
--   WRK requests=N seconds=S rps=R p50=US p75=US p90=US p99=US connect=E read=E write=E
--       timeout=E status=E
-- (latencies in microseconds, E = wrk's error counters; status = non-2xx/3xx replies).

local threads = {}
local counter = 0

function setup(thread)
    counter = counter + 1
    thread:set("id", counter)
    table.insert(threads, thread)
end

local requests = {}

-- "%"-escapes every byte of a 40-hex-digit info-hash.
local function escape_hex(hex)
    return (hex:gsub("..", function(pair) return "%" .. pair:upper() end))
end

function init(args)
    local mode = args[1] or "keep-alive"
    local peers = tonumber(args[2] or "4000")
    local hashes = {}
    for i = 3, #args do
        table.insert(hashes, escape_hex(args[i]))
    end
    if #hashes == 0 then
        error("announce.lua: no info-hashes given after `--`")
    end
    local headers = {}
    if mode == "close" then
        headers["Connection"] = "close"
    elseif mode ~= "keep-alive" then
        error("announce.lua: mode is keep-alive or close, not " .. mode)
    end
    for i = 0, peers - 1 do
        local path = string.format(
            "/announce?info_hash=%s&peer_id=-BS0001-%012d&port=%d&uploaded=0&downloaded=0"
                .. "&left=1000&compact=1&numwant=50",
            hashes[i % #hashes + 1], i, 10000 + i)
        requests[i + 1] = wrk.format("GET", path, headers)
    end
    math.randomseed(os.time() * 100 + (id or 0))
end

function request()
    return requests[math.random(#requests)]
end

function done(summary, latency, requests)
    local e = summary.errors
    local seconds = summary.duration / 1e6
    io.write(string.format(
        "WRK requests=%d seconds=%.3f rps=%.1f p50=%d p75=%d p90=%d p99=%d "
            .. "connect=%d read=%d write=%d timeout=%d status=%d\n",
        summary.requests, seconds, summary.requests / seconds,
        latency:percentile(50), latency:percentile(75), latency:percentile(90),
        latency:percentile(99), e.connect, e.read, e.write, e.timeout, e.status))
end
