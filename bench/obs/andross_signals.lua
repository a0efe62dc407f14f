-- SPDX-License-Identifier: GPL-2.0-or-later
-- bench/obs: an OBS script that stamps andross's global signals as a script or another plugin receives them.
-- For each andross_game_start, andross_stock_lost and andross_game_end on obs_get_signal_handler() it appends
-- `NS SIGNAL CONNECTION JSON` to the file named by its setting `out`, NS being os_gettime_ns() (CLOCK_MONOTONIC on
-- Linux, the clock of `andross console-sim --write-log`) taken first thing in the handler. obs_bench.mjs loads it
-- through the scene collection's "modules": {"scripts-tool": [...]}, as OBS's Tools > Scripts saves a script.
local obs = obslua

local SIGNALS = { 'andross_game_start', 'andross_stock_lost', 'andross_game_end' }
local out = nil

-- os_gettime_ns() is a uint64: a Lua number (exact below 2^53 ns, 104 days of uptime; tostring would round it
-- to 14 digits), or a cdata that prints with a ULL suffix
local function ns_text(ns)
  if type(ns) == 'number' then
    return string.format('%.0f', ns)
  end
  local text = tostring(ns):gsub('U?LL$', '')
  return text
end

local function handler(name)
  return function(cd)
    local ns = obs.os_gettime_ns()
    if out == nil then
      return
    end
    local connection = obs.calldata_int(cd, 'connection')
    local json = obs.calldata_string(cd, 'json')
    out:write(string.format('%s %s %s %s\n', ns_text(ns), name, ns_text(connection), json))
    out:flush()
  end
end

function script_description()
  return 'andross bench/obs: stamps the andross_* global signals into a file'
end

function script_load(settings)
  local path = obs.obs_data_get_string(settings, 'out')
  if path == nil or path == '' then
    obs.script_log(obs.LOG_WARNING, 'no "out" setting: nothing is recorded')
    return
  end
  out = io.open(path, 'w')
  if out == nil then
    obs.script_log(obs.LOG_WARNING, 'cannot open ' .. path)
    return
  end
  local sh = obs.obs_get_signal_handler()
  for _, name in ipairs(SIGNALS) do
    obs.signal_handler_connect(sh, name, handler(name))
  end
  out:write(string.format('%s loaded 0 {}\n', ns_text(obs.os_gettime_ns())))
  out:flush()
end

function script_unload()
  if out ~= nil then
    out:close()
    out = nil
  end
end
