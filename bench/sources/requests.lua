-- Cycle through the request paths listed (one per line) in the file named by WRK_PATHS, sending
-- the headers of the JSON object in WRK_HEADERS (an API token for a vendor's own REST API).
local paths = {}
for line in io.lines(os.getenv("WRK_PATHS")) do
  paths[#paths + 1] = line
end
local headers = {}
for name, value in string.gmatch(os.getenv("WRK_HEADERS") or "", '"([^"]+)": "([^"]*)"') do
  headers[name] = value
end
local i = math.random(#paths)
request = function()
  i = i + 1
  if i > #paths then i = 1 end
  return wrk.format("GET", paths[i], headers)
end
