#!/bin/sh
# A synthetic Changchun dataset for spgw-changchun-sim: every entity, every record valid and
# consistent (project -> units, cases -> steps, documents, procedures, materials, opinions),
# deterministic, fast (awk; a million steps in seconds). For tests and benchmarks; the
# realistic dataset with dirty records comes from contrib/jilin-gen (spgw-jilin-gen).
#
#   synth.sh DIR [-p PROJECTS] [-c CASES] [-P N] [-O N] [-b BURST] [-t 'YYYY-MM-DD HH:MM:SS']
#            [-i FIRST] [-e ENTITIES]
#
#   -p  projects (default 20); each has a 建设单位 and a 设计单位
#   -c  cases per project (default 4); each case 1 -> 3 -> 8 -> 11 (收件 受理 开始办理 办结),
#       a document and a material
#   -P  every Nth case also has a special procedure (9 -> 10 and a procedures record); 0: none
#       (default 10)
#   -O  every Nth case has an opinion (default 7; 0: none)
#   -b  BURST records in a row share one update_time, as a batch import writes them
#       (default 1)
#   -t  the first update_time (default 2026-11-01 08:00:00); each burst is one second later
#   -i  the number of the first project (default 1), to make a second dataset whose ids
#       are disjoint from one made with the same -c
#   -e  only these entities, comma-separated (default all)
#
# Steps are exactly PROJECTS x CASES x 4, plus 2 per special procedure: -p 62500 -c 4 -P 0
# makes 1,000,000 steps.
set -eu
usage() {
	sed -n '7,24p' "$0" | sed 's/^# \{0,1\}//' >&2
	exit 2
}
[ $# -ge 1 ] || usage
dir=$1
shift
projects=20 cases=4 proc_every=10 op_every=7 burst=1 start='2026-11-01 08:00:00' first=1
entities=projects,units,cases,steps,documents,procedures,materials,opinions
while getopts p:c:P:O:b:t:i:e: opt; do
	case $opt in
	p) projects=$OPTARG ;;
	c) cases=$OPTARG ;;
	P) proc_every=$OPTARG ;;
	O) op_every=$OPTARG ;;
	b) burst=$OPTARG ;;
	t) start=$OPTARG ;;
	i) first=$OPTARG ;;
	e) entities=$OPTARG ;;
	*) usage ;;
	esac
done
mkdir -p "$dir"
LC_ALL=C awk -v dir="$dir" -v P="$projects" -v C="$cases" -v PE="$proc_every" \
	-v OE="$op_every" -v B="$burst" -v START="$start" -v FIRST="$first" \
	-v ENT="$entities" '
function days_from_civil(y, m, d,    era, yoe, doy, doe) {
	y -= (m <= 2)
	era = int((y >= 0 ? y : y - 399) / 400)
	yoe = y - era * 400
	doy = int((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1
	doe = yoe * 365 + int(yoe / 4) - int(yoe / 100) + doy
	return era * 146097 + doe - 719468
}
function civil(z,    era, doe, yoe, doy, mp, d, m, y) {
	z += 719468
	era = int((z >= 0 ? z : z - 146096) / 146097)
	doe = z - era * 146097
	yoe = int((doe - int(doe / 1460) + int(doe / 36524) - int(doe / 146096)) / 365)
	doy = doe - (365 * yoe + int(yoe / 4) - int(yoe / 100))
	mp = int((5 * doy + 2) / 153)
	d = doy - int((153 * mp + 2) / 5) + 1
	m = mp + (mp < 10 ? 3 : -9)
	y = yoe + era * 400 + (m <= 2)
	CY = y; CM = m; CD = d
}
# seconds since 1970 (Beijing wall time) -> "YYYY-MM-DD HH:MM:SS"
function ts(t,    day, s) {
	day = int(t / 86400); s = t - day * 86400
	civil(day)
	return sprintf("%04d-%02d-%02d %02d:%02d:%02d", CY, CM, CD, int(s / 3600), int(s / 60) % 60, s % 60)
}
# the next update_time of entity e: BURST records share a second
function ut(e) {
	n_ut[e]++
	return ts(T0 + int((n_ut[e] - 1) / B))
}
function uscc(body,    s, i, v, ck) {
	s = 0
	for (i = 1; i <= 17; i++) {
		v = index(CHARS, substr(body, i, 1)) - 1
		s += v * W[i]
	}
	ck = (31 - s % 31) % 31
	return body substr(CHARS, ck + 1, 1)
}
# a date in one of the ways Changchun writes dates, chosen by k
function mixed_date(day, k) {
	civil(day)
	if (k % 4 == 0) return "\"" sprintf("%04d-%02d-%02d", CY, CM, CD) "\""
	if (k % 4 == 1) return "\"" sprintf("%d/%d/%d", CY, CM, CD) "\""
	if (k % 4 == 2) return "\"" sprintf("%04d%02d%02d", CY, CM, CD) "\""
	# Unix milliseconds of 09:00 Beijing time, as a JSON number
	return sprintf("%d000", day * 86400 + 3600)
}
function mixed_time(t, k,    day, s) {
	day = int(t / 86400); s = t - day * 86400
	civil(day)
	if (k % 3 == 0) return ts(t)
	if (k % 3 == 1) return sprintf("%d/%d/%d %d:%02d", CY, CM, CD, int(s / 3600), int(s / 60) % 60)
	return sprintf("%04d%02d%02d%02d%02d%02d", CY, CM, CD, int(s / 3600), int(s / 60) % 60, s % 60)
}
function out(e, line) {
	if (e in WANT) print line > (dir "/" e ".jsonl")
}
function step(kase, pc, subc, status, t, k,    id) {
	n_step++
	id = sprintf("CCB%08d", n_step)
	out("steps", "{\"id\":\"" id "\",\"update_time\":\"" ut("steps") "\",\"is_deleted\":0," \
		"\"delete_reason\":\"\",\"case_no\":\"" kase "\",\"project_code\":\"" pc "\"," \
		"\"sub_code\":\"" subc "\",\"office\":\"审批科\",\"handler\":\"王" (k % 9) "\"," \
		"\"status\":\"" status "\",\"opinion\":\"" (status == "办结" ? "同意" : "") "\"," \
		"\"handle_time\":\"" mixed_time(t, k) "\",\"dept_name\":\"长春市发展和改革委员会\"," \
		"\"dept_uscc\":\"" DEPT "\"}")
}
BEGIN {
	CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	split("1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30 28", W, " ")
	n = split(ENT, wl, ",")
	for (i = 1; i <= n; i++) WANT[wl[i]] = 1
	split(START, sd, /[- :]/)
	T0 = days_from_civil(sd[1] + 0, sd[2] + 0, sd[3] + 0) * 86400 + sd[4] * 3600 + sd[5] * 60 + sd[6]
	split("政府投资房屋建筑类 政府投资城市基础设施线性工程类 一般社会投资类 社会投资中小型工程 社会投资带方案出让用地", FT, " ")
	split("220102 220103 220104 220105 220106 220112 220113 220122 220182 220183 220184", CO, " ")
	split("划拨 出让 其他", LM, " ")
	split("审批 核准 备案", AT, " ")
	split("新建 扩建 改建 迁建", BN, " ")
	split("财政资金 自筹资金 其他", FA, " ")
	split("窗口受理 网上申请", AM, " ")
	DEPT = uscc("11220100MB0000001")
	d0 = days_from_civil(2026, 1, 5)
	# ids continue from where projects 1..FIRST-1 would have left them, so a dataset made
	# with -i after another (same -c) shares no id with it
	n_case = n_doc = n_mat = n_proc = n_op = (FIRST - 1) * C
	n_step = (FIRST - 1) * C * 6
	for (p = FIRST; p < FIRST + P; p++) {
		type = (p % 5) + 1
		tt = (p % 3) + 1
		pc = sprintf("2026-%s-47-0%d-%06d", CO[(p % 11) + 1], tt, p)
		subc = ""
		pday = d0 + (p % 280)
		builder = uscc(sprintf("91220104MA%07d", p))
		designer = uscc(sprintf("91220102MB%07d", p))
		civil(pday + 30)
		ps = sprintf("%d年%d月", CY, CM)
		civil(pday + 730)
		pe = sprintf("%d/%d/%d", CY, CM, CD)
		out("projects", "{\"id\":\"" sprintf("CCP%08d", p) "\",\"update_time\":\"" ut("projects") "\"," \
			"\"is_deleted\":0,\"delete_reason\":\"\",\"project_code\":\"" pc "\",\"sub_code\":\"\"," \
			"\"sub_scope\":\"\",\"project_name\":\"长春市第" p "号综合楼建设项目\"," \
			"\"flow_code\":\"JL-LC-0" type "\",\"flow_version\":\"1.0\",\"flow_type\":\"" FT[type] "\"," \
			"\"invest_source\":\"" (type <= 2 ? "政府投资" : "社会投资") "\"," \
			"\"land_method\":\"" LM[(p % 3) + 1] "\",\"land_with_design\":\"" (p % 2 ? "是" : "否") "\"," \
			"\"area_assessed\":\"否\",\"approval_type\":\"" AT[tt] "\",\"project_class\":\"房屋建筑\"," \
			"\"build_nature\":\"" BN[(p % 4) + 1] "\",\"fund_attr\":\"" FA[(p % 3) + 1] "\"," \
			"\"industry\":\"" (p % 2 ? "E4710" : "4710") "\",\"plan_start\":\"" ps "\",\"plan_end\":\"" pe "\"," \
			"\"finished\":\"否\",\"finished_date\":\"\"," \
			"\"total_invest_yuan\":\"" sprintf("%d,%03d,%03d.50", 1 + p % 900, p % 1000, (p * 7) % 1000) "\"," \
			"\"county_code\":\"" CO[(p % 11) + 1] "\",\"address\":\"长春市某区第" p "号地块\"," \
			"\"scale\":\"总建筑面积约" (10000 + p) "平方米\",\"land_area\":\"" (5000 + p) ".5\"," \
			"\"floor_area\":\"" (10000 + p) "\",\"apply_date\":" mixed_date(pday, p) "," \
			"\"builder_name\":\"长春第" p "建设有限公司\",\"builder_uscc\":\"" builder "\"," \
			"\"builder_type\":\"企业\",\"lng_lat\":\"125.32,43.88\"}")
		out("units", "{\"id\":\"" sprintf("CCU%08d", 2 * p - 1) "\",\"update_time\":\"" ut("units") "\"," \
			"\"is_deleted\":0,\"delete_reason\":\"\",\"project_code\":\"" pc "\",\"sub_code\":\"\"," \
			"\"uscc\":\"" builder "\",\"name\":\"长春第" p "建设有限公司\",\"role\":\"建设单位\"}")
		out("units", "{\"id\":\"" sprintf("CCU%08d", 2 * p) "\",\"update_time\":\"" ut("units") "\"," \
			"\"is_deleted\":0,\"delete_reason\":\"\",\"project_code\":\"" pc "\",\"sub_code\":\"\"," \
			"\"uscc\":\"" designer "\",\"name\":\"吉林第" p "设计研究院\",\"role\":\"设计单位\"}")
		for (c = 1; c <= C; c++) {
			n_case++
			kase = sprintf("CCSL%010d", (p - 1) * C + c)
			item = sprintf("JL-SX-%03d", ((c - 1) % 29) + 1)
			special = PE > 0 && n_case % PE == 0
			out("cases", "{\"id\":\"" kase "\",\"update_time\":\"" ut("cases") "\",\"is_deleted\":0," \
				"\"delete_reason\":\"\",\"project_code\":\"" pc "\",\"sub_code\":\"\"," \
				"\"item_code\":\"" item "\",\"item_version\":\"1.0\",\"flow_code\":\"JL-LC-0" type "\"," \
				"\"flow_version\":\"1.0\",\"dept_code\":\"220100-FGW\",\"dept_name\":\"长春市发展和改革委员会\"," \
				"\"accept_mode\":\"" AM[(c % 2) + 1] "\",\"public_mode\":\"主动公开\",\"parallel_no\":\"\"," \
				"\"limit_days\":20,\"contact\":\"赵" (c % 9) "\",\"mobile\":\"1380431" sprintf("%04d", p % 10000) "\"}")
			# steps: one working day apart from the project day, at 9:05 + a few minutes
			t = (pday + c) * 86400 + 9 * 3600 + 300
			step(kase, pc, subc, "收件", t, n_case)
			step(kase, pc, subc, "受理", t + 3600, n_case + 1)
			step(kase, pc, subc, "开始办理", t + 7200, n_case + 2)
			if (special) {
				step(kase, pc, subc, "特别程序开始", t + 86400, n_case)
				civil(int((t + 86400) / 86400))
				n_proc++
				out("procedures", "{\"id\":\"" sprintf("CCT%08d", n_proc) "\",\"update_time\":\"" ut("procedures") "\"," \
					"\"is_deleted\":0,\"delete_reason\":\"\",\"case_no\":\"" kase "\",\"project_code\":\"" pc "\"," \
					"\"sub_code\":\"\",\"kind\":\"专家评审\",\"name\":\"专家评审会\"," \
					"\"start_date\":\"" sprintf("%04d-%02d-%02d", CY, CM, CD) "\",\"limit_type\":\"工作日\",\"limit_days\":10}")
				step(kase, pc, subc, "特别程序结束", t + 2 * 86400, n_case + 1)
			}
			step(kase, pc, subc, "办结", t + 3 * 86400, n_case + 2)
			civil(int((t + 3 * 86400) / 86400))
			n_doc++
			out("documents", "{\"id\":\"" sprintf("CCD%08d", n_doc) "\",\"update_time\":\"" ut("documents") "\"," \
				"\"is_deleted\":0,\"delete_reason\":\"\",\"case_no\":\"" kase "\",\"project_code\":\"" pc "\"," \
				"\"sub_code\":\"\",\"doc_no\":\"长发改审批〔2026〕" n_doc "号\",\"title\":\"关于第" p "号项目的批复\"," \
				"\"issue_date\":\"" sprintf("%04d-%02d-%02d", CY, CM, CD) "\",\"valid_until\":\"" (n_doc % 2 ? "长期" : "2031-12-31") "\"," \
				"\"file_name\":\"批复" n_doc ".pdf\",\"file_type\":\"pdf\",\"file_url\":\"https://zwfw.changchun.gov.cn/f/" n_doc "\"," \
				"\"result_type\":\"10\"}")
			n_mat++
			out("materials", "{\"id\":\"" sprintf("CCM%08d", n_mat) "\",\"update_time\":\"" ut("materials") "\"," \
				"\"is_deleted\":0,\"delete_reason\":\"\",\"case_no\":\"" kase "\",\"project_code\":\"" pc "\"," \
				"\"sub_code\":\"\",\"name\":\"项目申请报告\",\"file_id\":\"F" sprintf("%08d", n_mat) "\",\"copies\":1,\"kind\":\"原件\"}")
			if (OE > 0 && n_case % OE == 0) {
				n_op++
				out("opinions", "{\"id\":\"" sprintf("CCO%08d", n_op) "\",\"update_time\":\"" ut("opinions") "\"," \
					"\"is_deleted\":0,\"delete_reason\":\"\",\"case_no\":\"" kase "\",\"project_code\":\"" pc "\"," \
					"\"sub_code\":\"\",\"dept_code\":\"220100-ZJJ\",\"dept_name\":\"长春市住房和城乡建设局\"," \
					"\"reply_time\":\"" ts(t + 86400 + 1800) "\",\"handler\":\"孙" (n_op % 9) "\",\"opinion\":\"无意见\"," \
					"\"file_name\":\"\",\"file_url\":\"\"}")
			}
		}
	}
}'
for e in $(echo "$entities" | tr ',' ' '); do
	[ -f "$dir/$e.jsonl" ] || : > "$dir/$e.jsonl"
done
