#!/bin/sh
# The HTML report as a reader's browser shows it: a reconciliation of Jilin's nine cities over
# 30 business days (three counts per day, a few days differing) is rendered by report_render
# (gateway/report.c) and opened in headless Chromium. Checked on the DOM Chromium builds: the
# title, nine sections with nine SVG charts, every number cell as the document has it (thousands
# separated), flagged rows highlighted with their notes, the flagged rows counted per city in
# the summary, and nothing loaded from anywhere (the page's own requests in Chromium's net log,
# Content-Security-Policy complaints on its console, src/href in the DOM). Two tampered copies
# of the page show that those checks do catch an external reference. A screenshot goes to the
# build directory; with SPGW_REPORT_DOC_IMAGE=FILE it is also copied there (doc/images).
#
# Chromium never reaches the network: every host name resolves to nothing and every request
# goes to a proxy on a closed loopback port.
#
# Environment (tests/meson.build): SPGW_REPORT_RENDER, SPGW_REPORT_OUT. Exit 77 (skipped)
# without chromium or python3.
set -u
: "${SPGW_REPORT_RENDER:?}" "${SPGW_REPORT_OUT:?}"

CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
if [ -z "$CHROMIUM" ]; then
	echo "skip: chromium is not installed (apt-get install chromium)"
	exit 77
fi
if ! command -v python3 >/dev/null; then
	echo "skip: python3 is not installed"
	exit 77
fi

T=$(mktemp -d "${TMPDIR:-/tmp}/spgw-report.XXXXXX")
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok - $*"; }
not_ok() { fail=$((fail + 1)); echo "not ok - $*"; }

# browser OUTPUT-FLAG... -- FILE: Chromium headless, offline, its own profile; the console
# goes to $T/console.log and the net log to $T/net.json.
browser() {
	timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$T/profile" --no-first-run --no-default-browser-check \
		--disable-extensions --disable-sync --disable-background-networking \
		--disable-component-update --disable-default-apps \
		--host-resolver-rules="MAP * ~NOTFOUND" --proxy-server="socks5://127.0.0.1:9" \
		--enable-logging=stderr --v=0 --log-net-log="$T/net.json" \
		"$@" 2>"$T/console.log"
}

# 1. The document: what spgw reconcile will produce for the province.
python3 - "$T/reconcile.json" <<'PY' || exit 1
import datetime, json, math, sys

cities = [("220100", "长春市", 1800), ("220200", "吉林市", 1200), ("220300", "四平市", 1240),
          ("220400", "辽源市", 420), ("220500", "通化市", 610), ("220600", "白山市", 380),
          ("220700", "松原市", 730), ("220800", "白城市", 520),
          ("222400", "延边朝鲜族自治州", 960)]
days, d = [], datetime.date(2026, 11, 2)
while len(days) < 30:                    # business days: Monday to Friday
    if d.weekday() < 5:
        days.append(d.isoformat())
    d += datetime.timedelta(days=1)
# (city, day) -> (which count differs, by how much); None: the national platform gave no count
odd = {("220100", "2026-11-10"): ("gateway", -2), ("220300", "2026-11-05"): ("national", -6),
       ("220300", "2026-11-19"): None, ("220500", "2026-12-01"): ("national", 3),
       ("220700", "2026-11-03"): ("gateway", -1), ("220700", "2026-11-16"): ("national", -12),
       ("220700", "2026-12-09"): ("national", -1), ("222400", "2026-11-27"): ("gateway", 4)}
col = lambda k, zh, en, t: {"key": k, "zh": zh, "en": en, "type": t}
columns = [col("day", "业务日", "business day", "date"),
           col("local", "地方系统", "city system", "int"),
           col("gateway", "网关台账", "gateway ledger", "int"),
           col("national", "国家平台", "national platform", "int"),
           col("diff", "差异", "national minus city", "int"),
           col("status", "状态", "status", "text")]
zh_of = {"gateway": ("网关台账", "gateway ledger"), "national": ("国家平台", "national platform")}
sections, summary = [], []
for ci, (code, name, base) in enumerate(cities):
    rows, series = [], {"local": [], "gateway": [], "national": []}
    for di, day in enumerate(days):
        # a slow swing of a few per cent and some day-to-day noise, all deterministic
        local = base + round(base * 0.04 * math.sin(di * 0.45 + ci)) + (di * 37 + ci * 11) % 29 - 14
        if (code, day) == ("220300", "2026-11-05"):
            local = 1240                 # the national platform shows 1,234 that day
        counts = {"local": local, "gateway": local, "national": local}
        row = {"day": day}
        if (code, day) in odd:
            how = odd[(code, day)]
            if how is None:
                counts["national"] = None
                row.update(_flag="differs", _note="国家平台未返回该日计数 the national "
                           "platform returned no count for the day")
            else:
                which, by = how
                counts[which] = local + by
                zh, en = zh_of[which]
                row.update(_flag="differs", _note="%s%s %d 条 %s has %d %s" % (
                    zh, "少" if by < 0 else "多", abs(by), en, abs(by),
                    "fewer" if by < 0 else "more"))
        nat = counts["national"]
        row.update(local=counts["local"], gateway=counts["gateway"], national=nat,
                   diff=None if nat is None else nat - counts["local"],
                   status="未计数 not counted" if nat is None else
                   "一致 match" if nat == counts["local"] == counts["gateway"] else
                   "不一致 differs")
        rows.append(row)
        for k in series:
            series[k].append(counts[k])
    flagged = sum(1 for r in rows if "_flag" in r)
    srow = {"city": "%s %s" % (code, name), "days": len(days),
            "local": sum(r["local"] for r in rows), "gateway": sum(r["gateway"] for r in rows),
            "national": sum(r["national"] or 0 for r in rows), "differ": flagged}
    if flagged:
        srow.update(_flag="differs", _note="%d 天不一致 %d days differ" % (flagged, flagged))
    summary.append(srow)
    sections.append({"title": "%s %s" % (code, name),
                     "chart": {"x": days, "series": [
                         {"name": "地方系统 city system", "values": series["local"]},
                         {"name": "网关台账 gateway ledger", "values": series["gateway"]},
                         {"name": "国家平台 national platform", "values": series["national"]}]},
                     "table": {"columns": columns, "rows": rows}})
doc = {"kind": "reconcile", "title": "对账报告 Reconciliation report",
       "generated_at": "2026-12-12T02:00:00Z",
       "params": {"from": days[0], "to": days[-1], "region": "220000 吉林省 Jilin",
                  "level": "按业务日 per business day"},
       "notes": ["三方计数按业务日比较：地方系统、网关台账、国家平台 counts compared per business "
                 "day: city system, gateway ledger, national platform",
                 "标记的行计数不一致，备注说明差异 flagged rows differ; the note says how"],
       "summary": {"columns": [col("city", "城市", "city", "text"),
                               col("days", "业务日数", "business days", "int"),
                               col("local", "地方系统合计", "city system total", "int"),
                               col("gateway", "网关台账合计", "gateway ledger total", "int"),
                               col("national", "国家平台合计", "national platform total", "int"),
                               col("differ", "不一致天数", "days differing", "int")],
                   "rows": summary},
       "sections": sections}
json.dump(doc, open(sys.argv[1], "w"), ensure_ascii=False, indent=1)
PY

# 2. Rendered by the code under test.
if "$SPGW_REPORT_RENDER" "$T/reconcile.json" "$T/reconcile.html"; then
	ok "report_render wrote the HTML page"
else
	not_ok "report_render failed"
	exit 1
fi

# check_page DOM NETLOG CONSOLE: the checks on what Chromium made of the page; one "ok"/"not ok"
# line per check, exit status 1 when any failed.
check_page() {
	python3 - "$T/reconcile.json" "$1" "$2" "$3" <<'PY'
import json, sys
from html.parser import HTMLParser

doc = json.load(open(sys.argv[1]))
dom = open(sys.argv[2], encoding="utf-8").read()
failed = 0

def check(what, good, detail=""):
    global failed
    print(("ok - " if good else "not ok - ") + what + ("" if good else ": " + detail))
    failed += not good

class Node:
    def __init__(self, tag, attrs, parent):
        self.tag, self.attrs, self.parent, self.kids, self.text = tag, dict(attrs), parent, [], ""
    def all(self, tag=None, cls=None):
        for k in self.kids:
            if (tag is None or k.tag == tag) and (cls is None or cls in k.cls()):
                yield k
            yield from k.all(tag, cls)
    def cls(self):
        return (self.attrs.get("class") or "").split()
    def content(self):
        return self.text + "".join(k.content() for k in self.kids)

VOID = {"meta", "link", "img", "br", "hr", "input", "source", "col", "area", "base", "wbr",
        "embed", "track", "param"}
class Tree(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = self.cur = Node("#root", [], None)
    def handle_starttag(self, tag, attrs):
        n = Node(tag, attrs, self.cur)
        self.cur.kids.append(n)
        if tag not in VOID:
            self.cur = n
    def handle_startendtag(self, tag, attrs):
        self.cur.kids.append(Node(tag, attrs, self.cur))
    def handle_endtag(self, tag):
        n = self.cur
        while n is not None and n.tag != tag:
            n = n.parent
        if n is not None and n.parent is not None:
            self.cur = n.parent
    def handle_data(self, data):
        if self.cur.kids:             # text after a child: keep it in order as a text node
            t = Node("#text", [], self.cur)
            t.text = data
            self.cur.kids.append(t)
        else:
            self.cur.text += data

p = Tree()
p.feed(dom)
root = p.root
fmt = lambda v: "" if v is None else "{:,}".format(v) if isinstance(v, int) else str(v)

# the page
titles = [t.content() for t in root.all("title") if t.parent.tag == "head"]
check("the page title", titles == [doc["title"]], repr(titles))
check("the heading", [h.content() for h in root.all("h1")] == [doc["title"]])
parts = list(root.all("section", "part"))
check("nine sections", len(parts) == 9, str(len(parts)))
check("their titles, in order", [next(s.all("h2")).content() for s in parts] ==
      [s["title"] for s in doc["sections"]])
svgs = list(root.all("svg"))
check("nine svg charts, one per section", len(svgs) == 9 and
      all(len(list(s.all("svg"))) == 1 for s in parts), str(len(svgs)))
check("each chart: three legend entries and three lines",
      all(len(list(s.all("g", "legend"))) == 3 and len(list(s.all("path", "series"))) == 3
          for s in svgs))
lines = [p.attrs["d"] for p in parts[2].all("path", "series")]
check("220300's national line has a gap for the day not counted",
      [d.count("M") for d in lines] == [1, 1, 2], str([d.count("M") for d in lines]))

# every cell of every section's table, as the document has it
def table_rows(table):
    keys = [th.attrs.get("data-key") for th in next(table.all("thead")).all("th")]
    for tr in next(table.all("tbody")).all("tr"):
        yield tr, dict(zip(keys, [td.content() for td in tr.all("td")]))

bad = []
for sec, part in zip(doc["sections"], parts):
    table = next(part.all("table", "data"))
    got = list(table_rows(table))
    if len(got) != len(sec["table"]["rows"]):
        bad.append("%s: %d rows" % (sec["title"], len(got)))
        continue
    for want, (tr, cells) in zip(sec["table"]["rows"], got):
        for c in sec["table"]["columns"]:
            if cells.get(c["key"]) != fmt(want.get(c["key"])):
                bad.append("%s %s %s: %r" % (sec["title"], want["day"], c["key"],
                                             cells.get(c["key"])))
        flagged = "flagged" in tr.cls()
        if flagged != ("_flag" in want):
            bad.append("%s %s: flagged %s" % (sec["title"], want["day"], flagged))
        if flagged and (tr.attrs.get("title") != want["_note"] or
                        want["_note"] not in [td.content() for td in tr.all("td", "note")]):
            bad.append("%s %s: note %r" % (sec["title"], want["day"], tr.attrs.get("title")))
check("every table cell as the document has it, thousands separated", not bad,
      "; ".join(bad[:5]))

row = {tr_cells["day"]: (tr, tr_cells) for tr, tr_cells in
       table_rows(next(parts[2].all("table", "data")))}["2026-11-05"]
check("220300 on 2026-11-05: national 1,234, city 1,240, difference -6",
      (row[1]["national"], row[1]["local"], row[1]["diff"]) == ("1,234", "1,240", "-6"),
      str(row[1]))
check("... and that row carries the highlight class",
      "flagged" in row[0].cls() and row[0].attrs.get("title", "").startswith("国家平台少 6 条"))
flagged_trs = [tr for tr in root.all("tr", "flagged")]
check("flagged rows: 8 days, and 5 cities in the summary", len(flagged_trs) == 13,
      str(len(flagged_trs)))

# the summary: flagged rows per city (written out here, not taken from the renderer)
want_flags = {"220100": 1, "220200": 0, "220300": 2, "220400": 0, "220500": 1, "220600": 0,
              "220700": 3, "220800": 0, "222400": 1}
overview = next(root.all("table", "overview"))
got_flags = {}
for tr in next(overview.all("tbody")).all("tr"):
    tds = list(tr.all("td"))
    link = next(tds[0].all("a"))
    got_flags[tds[0].content().split()[0]] = (tds[1].content(), tds[2].content(),
                                              link.attrs.get("href"))
check("the summary counts flagged rows per city",
      {k: v[1] for k, v in got_flags.items()} == {k: str(v) for k, v in want_flags.items()},
      str(got_flags))
check("... with 30 rows each and links to the sections",
      all(v[0] == "30" and v[2] == "#s%d" % (i + 1) for i, v in enumerate(got_flags.values())))
totals = next(root.all("section", "summary")).content()
check("the total line", "9 sections, 270 rows, 8 flagged" in totals, totals[:200])
srows = list(table_rows(next(root.all("table", "summary-table"))))
check("the summary table: 220300's national total thousands separated",
      srows[2][1]["national"] == fmt(doc["summary"]["rows"][2]["national"]) and
      "," in srows[2][1]["national"], str(srows[2][1]))

# nothing from elsewhere
refs = [(n.tag, k, v) for n in root.all() for k, v in n.attrs.items()
        if k in ("src", "href", "srcset", "action", "poster", "data", "xlink:href")
        and not (k == "href" and v.startswith("#"))]
check("no src or href off the page in the DOM", not refs, str(refs[:3]))
loaders = [n.tag for n in root.all() if n.tag in ("script", "link", "img", "iframe", "object",
                                                   "embed", "video", "audio", "image", "use")]
check("no element that loads anything", not loaders, str(loaders[:3]))
style = "".join(s.content() for s in root.all("style"))
check("no url() or @import in the style", "url(" not in style and "@import" not in style)
csp = [m.attrs.get("content", "") for m in root.all("meta")
       if m.attrs.get("http-equiv", "").lower() == "content-security-policy"]
check("a policy that forbids loading anything", csp and "default-src 'none'" in csp[0])

net = json.load(open(sys.argv[3]))
page = sorted({e["params"].get("url", "?") for e in net["events"]
               if "file://" in str(e.get("params", {}).get("network_isolation_key", ""))})
check("the page asked for nothing over the network (net log)", not page, str(page[:3]))
console = open(sys.argv[4], encoding="utf-8", errors="replace").read()
check("no Content-Security-Policy complaint on the console",
      "Content Security Policy" not in console,
      [l for l in console.splitlines() if "Content Security Policy" in l][:1].__str__())
sys.exit(1 if failed else 0)
PY
}

# 3. The page in Chromium.
if browser --dump-dom "file://$T/reconcile.html" >"$T/dom.html" && [ -s "$T/dom.html" ]; then
	ok "chromium rendered the page"
else
	not_ok "chromium --dump-dom failed ($(tail -3 "$T/console.log"))"
	exit 1
fi
cp "$T/console.log" "$T/console-page.log"
cp "$T/net.json" "$T/net-page.json"
out=$(check_page "$T/dom.html" "$T/net-page.json" "$T/console-page.log")
st=$?
echo "$out"
pass=$((pass + $(echo "$out" | grep -c '^ok - ')))
fail=$((fail + $(echo "$out" | grep -c '^not ok - ')))
[ $st -eq 0 ] || [ "$(echo "$out" | grep -c '^not ok - ')" -gt 0 ] || not_ok "the DOM checks crashed"

# 4. The checks themselves catch an external reference: an image from elsewhere slipped into
# the page, once with the page's policy (the console complains, the DOM shows the src) and
# once without it (the net log shows the request, refused by the dead proxy).
sed 's|</main>|<img src="http://203.0.113.9/leak.png" alt=""></main>|' "$T/reconcile.html" \
	>"$T/tampered.html"
browser --dump-dom "file://$T/tampered.html" >"$T/dom-t.html"
out=$(check_page "$T/dom-t.html" "$T/net.json" "$T/console.log")
if echo "$out" | grep -q '^not ok - no src or href off the page' &&
	echo "$out" | grep -q '^not ok - no Content-Security-Policy complaint'; then
	ok "a tampered page (external image) is caught by the DOM and console checks"
else
	not_ok "a tampered page went unnoticed: $out"
fi
sed -e 's|</main>|<img src="http://203.0.113.9/leak.png" alt=""></main>|' \
	-e '/Content-Security-Policy/d' "$T/reconcile.html" >"$T/tampered2.html"
browser --dump-dom "file://$T/tampered2.html" >"$T/dom-t2.html"
out=$(check_page "$T/dom-t2.html" "$T/net.json" "$T/console.log")
if echo "$out" | grep -q '^not ok - the page asked for nothing over the network'; then
	ok "a tampered page without the policy is caught by the net log check"
else
	not_ok "the net log check missed a request: $out"
fi

# 5. A screenshot for a person to look at.
shot="$SPGW_REPORT_OUT/reconcile-report.png"
rm -f "$shot"
browser --window-size=1280,2400 --screenshot="$shot" "file://$T/reconcile.html" >/dev/null
if python3 - "$shot" <<'PY'; then
import struct, sys
head = open(sys.argv[1], "rb").read(24)
w, h = struct.unpack(">II", head[16:24])
sys.exit(0 if head[:8] == b"\x89PNG\r\n\x1a\n" and (w, h) == (1280, 2400) else 1)
PY
	ok "screenshot $shot (1280x2400)"
else
	not_ok "no usable screenshot at $shot"
fi
if [ -n "${SPGW_REPORT_DOC_IMAGE:-}" ] && [ -s "$shot" ]; then
	cp "$shot" "$SPGW_REPORT_DOC_IMAGE" && echo "# copied to $SPGW_REPORT_DOC_IMAGE"
fi

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
