-- wrk script: public intake with a fresh Idempotency-Key and phone number per request.
local card = os.getenv("CARD")
local n = 0
math.randomseed(os.time())
request = function()
  n = n + 1
  local key = string.format("bench-%d-%d", math.random(1, 1000000000), n)
  local phone = string.format("139%08d", math.random(0, 99999999))
  local body = '{"card_code":"' .. card .. '","category":"water.supply","kind":"help",' ..
    '"description":"压测：村里停水了，请尽快处理","phone":"' .. phone .. '"}'
  return wrk.format("POST", "/api/v1/tickets",
    { ["Content-Type"] = "application/json", ["Idempotency-Key"] = key }, body)
end
