"""Reads minsheng's Open311 facade with the third-party client `georeport` (PyPI), in JSON and in
XML, and files a request with an API key (the client reads only; filing uses `requests`, which the
client itself depends on). Run by .ci/georeport.sh against a running demo:

    python check.py http://127.0.0.1:PORT/open311/v2 API_KEY
"""
import sys

import requests
from georeport import GeoReport

ROOT, KEY = sys.argv[1], sys.argv[2]
PHONE = "13877776666"


def as_list(x):
    """xmltodict gives a dict for one repeated element and a list for several."""
    return x if isinstance(x, list) else [x]


def check(cond, what):
    if not cond:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok - {what}")


js = GeoReport(ROOT, jurisdiction="qinghe", output_format="json")
xml = GeoReport(ROOT, jurisdiction="qinghe", output_format="xml")

# Services: the categories, the same in both formats.
services = js.get_service_list()
by_code = {s["service_code"]: s for s in services}
supply = by_code.get("water.supply")
check(supply is not None, "services.json lists water.supply")
check(supply["service_name"] == "停水断水" and supply["group"] == "饮水安全", "its name and group")
check(supply["metadata"] is True and supply["type"] == "realtime", "metadata true, type realtime")
check("停水断水" in supply["keywords"].split(","), "keywords")
xservices = as_list(xml.get_service_list())
check({s["service_code"] for s in xservices} == set(by_code), "services.xml lists the same codes")
xsupply = next(s for s in xservices if s["service_code"] == "water.supply")
check(xsupply["service_name"] == "停水断水" and xsupply["metadata"] == "true", "services.xml fields")

# A service definition: the kind attribute with its six values.
d = js.get_service_definition("water.supply")
check(d["service_code"] == "water.supply" and d["attributes"][0]["code"] == "kind", "definition.json")
check(len(d["attributes"][0]["values"]) == 6, "six kinds")
xd = xml.get_service_definition("water.supply")
attr = as_list(xd["attributes"]["attribute"])[0]
check(attr["code"] == "kind" and len(as_list(attr["values"]["value"])) == 6, "definition.xml")

# File a request with the key (form-encoded, as the standard says), placed by its address.
r = requests.post(f"{ROOT}/requests.json", data={
    "api_key": KEY, "service_code": "water.supply", "jurisdiction_id": "qinghe",
    "description": "georeport 客户端测试：村里自来水停了两天", "phone": PHONE,
    "address_string": "东坝镇李家庄村", "lat": "36.1", "long": "117.2",
}, timeout=10)
check(r.status_code == 201, f"POST requests.json answers 201 ({r.status_code} {r.text[:200]})")
no = r.json()[0]["service_request_id"]
check(no in r.json()[0]["service_notice"], f"filed {no}, named in the notice")

one = js.get_service_request(no)
check(one["service_request_id"] == no and one["status"] == "open", "requests/{id}.json: open")
check(one["address"] == "东坝镇李家庄村" and one["lat"] == 36.1 and one["long"] == 117.2, "address and location")
check(one["requested_datetime"].endswith("+08:00"), "ISO 8601 time with the county's offset")
xone = xml.get_service_request(no)
check(xone["service_request_id"] == no and xone["status"] == "open" and xone["lat"] == "36.1", "requests/{id}.xml")

# Lists with the standard's filters, in both formats.
mine = js.get_service_requests(service_request_id=no)
check([m["service_request_id"] for m in mine] == [no], "requests.json by service_request_id")
opened = js.get_service_requests(status="open", service_code="water.supply")
check(no in [o["service_request_id"] for o in opened], "requests.json status=open&service_code")
check(all(o["status"] == "open" and o["service_code"] == "water.supply" for o in opened), "filters hold")
closed = js.get_service_requests(status="closed")
check(all(c["status"] == "closed" for c in closed), f"status=closed ({len(closed)} requests)")
xopened = as_list(xml.get_service_requests(status="open", service_code="water.supply"))
check(sorted(x["service_request_id"] for x in xopened) == sorted(o["service_request_id"] for o in opened),
      "requests.xml lists the same requests")
recent = js.get_service_requests(start_date="2020-01-01T00:00:00Z", end_date="2020-02-01T00:00:00Z")
check(recent == [], "a date range with no requests is empty")
everything = js.get_service_requests()
check(no in [e["service_request_id"] for e in everything], "the default list (last 90 days) has it")
text = requests.get(f"{ROOT}/requests.json", timeout=10).text + requests.get(f"{ROOT}/requests.xml", timeout=10).text
check(PHONE not in text and "7776666" not in text, "no requester's phone in the public lists")

# A bad key: the standard's error list, 403.
r = requests.post(f"{ROOT}/requests.json", data={"api_key": "nope", "service_code": "water.supply"}, timeout=10)
check(r.status_code == 403 and r.json()[0]["code"] == 403, "a bad api_key is 403 with the error list")
try:
    xml.get_service_definition("no.such.service")
    check(False, "an unknown service raises")
except requests.HTTPError as e:
    check(e.response.status_code == 404 and "<errors><error><code>404</code>" in e.response.text, "unknown service: 404 XML errors")
print("georeport check passed")
