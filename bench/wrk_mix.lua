-- Rotates over the request paths in a file (one per line), each thread starting at another place,
-- and prints the result like wrk_report.lua. Usage: wrk ... -s bench/wrk_mix.lua URL -- paths.txt
local paths = {}
local counter = 0

init = function(args)
  for line in io.lines(args[1]) do
    if line ~= "" then table.insert(paths, line) end
  end
  counter = math.random(#paths)
end

request = function()
  counter = counter % #paths + 1
  return wrk.format("GET", paths[counter])
end

-- The result line is printed by wrk_report.lua, loaded from the folder this script is in.
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "wrk_report.lua")
