-- SPDX-License-Identifier: GPL-2.0-or-later
-- For rules.test.mjs: stands in for whatever decides that a set is over (the scores), which emits the global signal
-- andross_set_end. Here OBS's studio mode being switched on (obs-websocket's SetStudioModeEnabled) emits it for the
-- connection of the script's setting `connection`.
local obs = obslua

local connection = 1

local function on_event(event)
  if event ~= obs.OBS_FRONTEND_EVENT_STUDIO_MODE_ENABLED then
    return
  end
  local cd = obs.calldata_create()
  obs.calldata_set_int(cd, 'connection', connection)
  obs.calldata_set_string(cd, 'json', '{"type":"set_end"}')
  obs.signal_handler_signal(obs.obs_get_signal_handler(), 'andross_set_end', cd)
  obs.calldata_destroy(cd)
  obs.script_log(obs.LOG_INFO, 'andross_set_end emitted')
end

function script_description()
  return 'andross tests: emits andross_set_end when studio mode is switched on'
end

function script_load(settings)
  connection = obs.obs_data_get_int(settings, 'connection')
  obs.obs_frontend_add_event_callback(on_event)
end
