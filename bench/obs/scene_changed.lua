-- SPDX-License-Identifier: GPL-2.0-or-later
-- bench/obs/scene_bench.mjs: an OBS script that stamps OBS's own "the program scene changed" frontend event
-- (OBS_FRONTEND_EVENT_SCENE_CHANGED, on OBS's UI thread, the event obs-websocket turns into
-- CurrentProgramSceneChanged). It appends `NS SCENE` to the file named by its setting `out`, NS being os_gettime_ns()
-- (CLOCK_MONOTONIC, the clock of `andross console-sim --write-log`) taken first thing in the callback.
local obs = obslua

local out = nil

local function ns_text(ns)
  if type(ns) == 'number' then
    return string.format('%.0f', ns)
  end
  local text = tostring(ns):gsub('U?LL$', '')
  return text
end

local function on_event(event)
  if event ~= obs.OBS_FRONTEND_EVENT_SCENE_CHANGED or out == nil then
    return
  end
  local ns = obs.os_gettime_ns()
  local scene = obs.obs_frontend_get_current_scene()
  local name = scene and obs.obs_source_get_name(scene) or ''
  if scene then
    obs.obs_source_release(scene)
  end
  out:write(string.format('%s %s\n', ns_text(ns), name))
  out:flush()
end

function script_description()
  return 'andross bench/obs: stamps OBS_FRONTEND_EVENT_SCENE_CHANGED into a file'
end

function script_load(settings)
  local path = obs.obs_data_get_string(settings, 'out')
  if path == nil or path == '' then
    return
  end
  out = io.open(path, 'w')
  if out == nil then
    obs.script_log(obs.LOG_WARNING, 'cannot open ' .. path)
    return
  end
  obs.obs_frontend_add_event_callback(on_event)
  out:write(string.format('%s (loaded)\n', ns_text(obs.os_gettime_ns())))
  out:flush()
end

function script_unload()
  if out ~= nil then
    out:close()
    out = nil
  end
end
