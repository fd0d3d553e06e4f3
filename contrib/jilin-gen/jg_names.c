/*
 * The nine prefectures and the words real approval data is made of: project names put
 * together from a place, a subject and a kind of works; companies with a 字号 and a trade;
 * departments as each city names them; people, addresses and the texts clerks type.
 */
#include <stdio.h>
#include <string.h>

#include "jg.h"

/* ---- regions (spec §0), with county names from GB/T 2260 ---- */

static const char *const cc_c[] = {"220102", "220103", "220104", "220105", "220106", "220112",
				   "220113", "220122", "220182", "220183", "220184"};
static const char *const cc_n[] = {"南关区", "宽城区", "朝阳区", "二道区", "绿园区",  "双阳区",
				   "九台区", "农安县", "榆树市", "德惠市", "公主岭市"};
static const char *const jl_c[] = {"220202", "220203", "220204", "220211", "220221",
				   "220281", "220282", "220283", "220284"};
static const char *const jl_n[] = {"昌邑区", "龙潭区", "船营区", "丰满区", "永吉县",
				   "蛟河市", "桦甸市", "舒兰市", "磐石市"};
static const char *const sp_c[] = {"220302", "220303", "220322", "220382"};
static const char *const sp_n[] = {"铁西区", "铁东区", "梨树县", "双辽市"};
static const char *const ly_c[] = {"220402", "220403", "220421", "220422"};
static const char *const ly_n[] = {"龙山区", "西安区", "东丰县", "东辽县"};
static const char *const th_c[] = {"220502", "220503", "220521", "220523",
				   "220524", "220581", "220582"};
static const char *const th_n[] = {"东昌区", "二道江区", "通化县", "辉南县",
				   "柳河县", "梅河口市", "集安市"};
static const char *const bs_c[] = {"220602", "220605", "220621", "220622", "220623", "220681"};
static const char *const bs_n[] = {"浑江区", "江源区",		 "抚松县",
				   "靖宇县", "长白朝鲜族自治县", "临江市"};
static const char *const sy_c[] = {"220702", "220721", "220722", "220723", "220781"};
static const char *const sy_n[] = {"宁江区", "前郭尔罗斯蒙古族自治县", "长岭县", "乾安县",
				   "扶余市"};
static const char *const bc_c[] = {"220802", "220821", "220822", "220881", "220882"};
static const char *const bc_n[] = {"洮北区", "镇赉县", "通榆县", "洮南市", "大安市"};
static const char *const yb_c[] = {"222401", "222402", "222403", "222404",
				   "222405", "222406", "222424", "222426"};
static const char *const yb_n[] = {"延吉市", "图们市", "敦化市", "珲春市",
				   "龙井市", "和龙市", "汪清县", "安图县"};

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

const struct jg_region jg_regions[JG_NREGIONS] = {
	{"220100", "长春市", "长", cc_c, cc_n, N(cc_c), 125.3245, 43.8868, JG_CC, 0},
	{"220200", "吉林市", "吉市", jl_c, jl_n, N(jl_c), 126.5496, 43.8378, JG_PROV, 1},
	{"220300", "四平市", "四", sp_c, sp_n, N(sp_c), 124.3504, 43.1664, JG_PROV, 2},
	{"220400", "辽源市", "辽", ly_c, ly_n, N(ly_c), 125.1437, 42.8880, JG_PROV, 3},
	{"220500", "通化市", "通", th_c, th_n, N(th_c), 125.9399, 41.7285, JG_PROV, 4},
	{"220600", "白山市", "白山", bs_c, bs_n, N(bs_c), 126.4237, 41.9395, JG_PROV, 5},
	{"220700", "松原市", "松", sy_c, sy_n, N(sy_c), 124.8251, 45.1411, JG_PROV, 6},
	{"220800", "白城市", "白", bc_c, bc_n, N(bc_c), 122.8388, 45.6196, JG_PROV, 7},
	{"222400", "延边朝鲜族自治州", "延州", yb_c, yb_n, N(yb_c), 129.5090, 42.8912, JG_PROV, 8},
};

const struct jg_region *jg_region_find(const char *code)
{
	int i;

	for (i = 0; i < JG_NREGIONS; i++)
		if (strcmp(jg_regions[i].code, code) == 0)
			return &jg_regions[i];
	return NULL;
}

/* A county's name with its city in front where people would write it so. */
static void place(const struct jg_region *g, int county, char *out, size_t n)
{
	const char *c = g->county_names[county];
	size_t len = strlen(c);

	/* districts (区) are written with the city; counties and county-level cities alone */
	if (len >= 3 && strcmp(c + len - 3, "区") == 0)
		snprintf(out, n, "%s%s", g->name, c);
	else
		snprintf(out, n, "%s", c);
}

/* ---- people ---- */

static const char *const surnames[] = {
	"王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴",   "徐",   "孙", "马", "朱",
	"胡", "郭", "何", "高", "林", "罗", "郑", "梁", "谢", "宋",   "唐",   "许", "韩", "冯",
	"邓", "曹", "彭", "曾", "肖", "田", "董", "袁", "潘", "于",   "蒋",   "蔡", "余", "杜",
	"叶", "程", "苏", "魏", "吕", "丁", "任", "沈", "姚", "卢",   "姜",   "崔", "钟", "谭",
	"陆", "汪", "范", "金", "石", "廖", "贾", "夏", "韦", "付",   "方",   "白", "邹", "孟",
	"熊", "秦", "邱", "江", "尹", "薛", "闫", "段", "雷", "侯",   "龙",   "史", "陶", "黎",
	"贺", "顾", "毛", "郝", "龚", "邵", "朴", "崔", "全", "南宫", "欧阳",
};
static const char *const given[] = {
	"伟",	"芳",	"娜",	"敏",	"静",	"丽",	"强",	"磊",	"军",	"洋",	"勇",
	"艳",	"杰",	"娟",	"涛",	"明",	"超",	"秀英", "霞",	"平",	"刚",	"桂英",
	"建华", "文",	"华",	"金凤", "玉兰", "志强", "海燕", "红梅", "立新", "春生", "宏伟",
	"晓东", "丽娟", "国庆", "建国", "振宇", "雪梅", "子涵", "宇航", "欣怡", "浩然", "思远",
	"佳琪", "俊杰", "东旭", "长春", "铁军", "凤霞", "德胜", "永福", "淑珍", "秀兰", "玉珍",
	"凯",	"鹏",	"斌",	"琳",	"博",	"旭",	"岩",	"松",
};

void jg_name_person(struct jg_rng *r, char *out, size_t n)
{
	/* one draw per statement: the order of arguments is unspecified in C, and the
	 * output must not depend on the compiler */
	const char *s = JG_PICK(r, surnames);

	snprintf(out, n, "%s%s", s, JG_PICK(r, given));
}

void jg_name_mobile(struct jg_rng *r, char out[12])
{
	static const char *const pre[] = {"130", "131", "132", "133", "135", "136", "137",
					  "138", "139", "150", "151", "152", "155", "156",
					  "157", "158", "159", "176", "177", "180", "181",
					  "186", "187", "188", "189", "199"};

	const char *p = JG_PICK(r, pre);

	snprintf(out, 12, "%s%08u", p, (unsigned)jg_below(r, 100000000u));
}

/* ---- companies ---- */

static const char *const zihao[] = {
	"宏达", "鑫源",	  "华信",   "恒基", "瑞丰", "中联", "北方", "天成", "金诚",   "远大",
	"东北", "长白山", "松花江", "华润", "亚泰", "一汽", "吉盛", "兴业", "鼎鑫",   "润德",
	"福瑞", "嘉禾",	  "昊天",   "盛世", "佳园", "万达", "中科", "宇通", "祥和",   "顺达",
	"永安", "泰和",	  "众诚",   "博远", "启航", "铭锐", "银河", "海川", "新纪元", "金桥",
	"广厦", "万科",	  "保利",   "融创", "首开", "龙湖", "同济", "长城", "东方红", "建工",
};
static const char *const trade[6][6] = {
	{"", "", "", "", "", ""},
	{"房地产开发", "置业", "城市开发建设", "实业", "投资", "地产"}, /* 建设 */
	{"勘察设计研究院", "岩土工程勘察", "勘测", "工程勘察院", "地质勘察", "勘察测绘"},
	{"建筑设计研究院", "建筑设计院", "市政工程设计研究院", "规划设计", "工程设计",
	 "建筑规划设计院"},
	{"建筑工程", "建设集团", "市政工程", "建工集团", "建筑安装工程", "路桥工程"},
	{"工程监理", "建设监理", "工程项目管理", "工程咨询监理", "建设工程监理", "工程管理"},
};
static const char *const suffix[] = {"有限公司",     "有限公司",     "有限公司",
				     "有限责任公司", "股份有限公司", "（集团）有限公司"};

void jg_name_company(struct jg_rng *r, const struct jg_region *g, int role, char *out, size_t n)
{
	static const char *const wide[] = {"吉林省", "中国", "中建", "中铁", "吉林"};
	const char *pre, *zh, *tr;
	char city[64];

	if (role < 1 || role > 5)
		role = 1;
	/* a city's name without 市 / 朝鲜族自治州 as companies write it */
	snprintf(city, sizeof(city), "%s", g->name);
	if (strstr(city, "延边"))
		snprintf(city, sizeof(city), "延边");
	else if (strlen(city) > 3)
		city[strlen(city) - 3] = '\0';
	pre = jg_chance(r, 0.3) ? JG_PICK(r, wide) : city;
	zh = JG_PICK(r, zihao);
	tr = trade[role][jg_below(r, 6)];
	snprintf(out, n, "%s%s%s%s", pre, zh, tr, JG_PICK(r, suffix));
}

void jg_name_gov_builder(struct jg_rng *r, const struct jg_region *g, int county, int type,
			 char *out, size_t n)
{
	static const char *const house[] = {"教育局",
					    "卫生健康局",
					    "住房和城乡建设局",
					    "机关事务管理局",
					    "文化广播电视和旅游局",
					    "民政局",
					    "体育局",
					    "公安局"};
	static const char *const line[] = {
		"住房和城乡建设局",	    "城市管理局",	   "交通运输局", "水利局",
		"城市建设投资集团有限公司", "城市建设开发有限公司"};
	char where[96];

	if (jg_chance(r, 0.5))
		place(g, county, where, sizeof(where));
	else
		snprintf(where, sizeof(where), "%s", g->name);
	snprintf(out, n, "%s%s", where, type == 2 ? JG_PICK(r, line) : JG_PICK(r, house));
}

/* ---- projects ---- */

static const char *const roads[] = {
	"人民大街", "解放大路", "自由大路", "南湖大路", "亚泰大街", "卫星路",
	"长春路",   "北京路",	"吉林大路", "延安路",	"新华路",   "建设街",
	"中华路",   "和平街",	"光明路",   "胜利街",	"繁荣路",   "青年路",
	"东风大街", "迎宾路",	"滨江路",   "世纪大街", "前进大街", "珠江路",
	"黄河路",   "长江路",	"幸福街",   "文化路",	"工农大路", "站前街",
};
static const char *const rivers[] = {"伊通河", "松花江", "东辽河", "布尔哈通河", "浑江",
				     "饮马河", "洮儿河", "辉发河", "新开河",	 "细鳞河"};
static const char *const house1[] = {
	"第%s实验小学",
	"第%s中学",
	"人民医院门诊医技楼",
	"社区卫生服务中心",
	"文化活动中心",
	"全民健身中心",
	"养老服务中心",
	"保障性住房",
	"党群服务中心",
	"公安分局业务技术用房",
	"档案馆",
	"职业技术学校实训楼",
	"第%s幼儿园",
	"妇幼保健院住院楼",
	"图书馆",
	"疾病预防控制中心实验楼",
	"消防救援站",
};
static const char *const house1_works[] = {"新建工程", "改扩建工程", "建设项目", "维修改造工程",
					   "迁建工程"};
static const char *const line2[] = {
	"%s道路改造工程",	  "%s雨污分流改造工程", "%s供热管网改造工程", "%s燃气管网改造工程",
	"%s综合治理工程",	  "%s桥梁改建工程",	"%s地下综合管廊工程", "%s供水管网改造工程",
	"%s排水防涝设施建设工程", "%s慢行系统建设工程",
};
static const char *const social[] = {
	"生产基地建设项目", "物流园项目",	  "商业综合体项目",	  "住宅小区项目",
	"酒店项目",	    "标准化厂房建设项目", "汽车零部件产业园项目", "农产品加工园项目",
	"冷链仓储项目",	    "写字楼项目",	  "新能源装备制造项目",	  "医药产业园项目",
};
static const char *const small4[] = {"仓库建设项目",   "厂房扩建项目",	   "办公楼改造项目",
				     "加油站改造项目", "门市用房建设项目", "车间改造项目",
				     "冷库建设项目"};
static const char *const parcel5[] = {"住宅小区（一期）", "住宅小区（二期）", "商住综合体",
				      "地块开发项目",	  "安置住宅小区",     "城市更新项目"};
static const char *const nums[] = {"一", "二", "三",   "四",   "五",	 "六",	   "七",    "八",
				   "九", "十", "十一", "十二", "五十二", "八十七", "一〇八"};

void jg_name_project(struct jg_rng *r, const struct jg_region *g, int county, int type, char *out,
		     size_t n)
{
	char where[96], what[160], corp[160];

	place(g, county, where, sizeof(where));
	switch (type) {
	case 1: {
		const char *f = JG_PICK(r, house1);

		if (strstr(f, "%s"))
			snprintf(what, sizeof(what), f, JG_PICK(r, nums));
		else
			snprintf(what, sizeof(what), "%s", f);
		snprintf(out, n, "%s%s%s", where, what, JG_PICK(r, house1_works));
		break;
	}
	case 2: {
		const char *f = JG_PICK(r, line2);

		snprintf(what, sizeof(what), f,
			 strstr(f, "综合治理") ? JG_PICK(r, rivers) : JG_PICK(r, roads));
		snprintf(out, n, "%s%s", where, what);
		break;
	}
	case 4:
		jg_name_company(r, g, 1, corp, sizeof(corp));
		snprintf(out, n, "%s%s", corp, JG_PICK(r, small4));
		break;
	case 5: {
		const char *road = JG_PICK(r, roads), *side = jg_chance(r, 0.5) ? "南侧" : "东侧";

		snprintf(out, n, "%s%s%s%s", where, road, side, JG_PICK(r, parcel5));
		break;
	}
	default:
		snprintf(corp, sizeof(corp), "%s", JG_PICK(r, zihao));
		snprintf(out, n, "%s%s%s", where, corp, JG_PICK(r, social));
		break;
	}
}

void jg_name_address(struct jg_rng *r, const struct jg_region *g, int county, char *out, size_t n)
{
	char where[96];
	const char *a = JG_PICK(r, roads), *b = JG_PICK(r, roads);

	place(g, county, where, sizeof(where));
	switch (jg_below(r, 3)) {
	case 0:
		snprintf(out, n, "%s%s%u号", where, a, 1 + jg_below(r, 3000));
		break;
	case 1: {
		const char *ew = jg_chance(r, 0.5) ? "东" : "西";

		snprintf(out, n, "%s%s以%s、%s以%s", where, a, ew, b,
			 jg_chance(r, 0.5) ? "南" : "北");
		break;
	}
	default:
		snprintf(out, n, "%s%s与%s交汇处", where, a, strcmp(a, b) ? b : "建设街");
		break;
	}
}

void jg_name_scale(struct jg_rng *r, const struct jg_project *p, char *out, size_t n)
{
	static const char *const structure[] = {"框架结构", "框架剪力墙结构", "钢结构", "砖混结构",
						"剪力墙结构"};

	int up, down;

	if (p->type == 2) {
		double km = 0.5 + jg_below(r, 800) / 100.0;

		snprintf(out, n,
			 "改造道路长约%.2f公里，宽%d米，同步建设给排水、照明、绿化及交通设施", km,
			 12 + 2 * (int)jg_below(r, 15));
		return;
	}
	/* storeys by kind of project: schools and clinics are low, warehouses lower */
	up = p->type == 4   ? jg_range(r, 1, 3)
	     : p->type == 1 ? jg_range(r, 2, 8)
			    : jg_range(r, 3, 33);
	down = p->type == 4 ? 0 : (int)jg_below(r, 3);
	snprintf(out, n,
		 "总建筑面积约%.2f平方米，地上%d层，地下%d层，%s，配套建设室外管网、道路及绿化工程",
		 p->floor_area, up, down, JG_PICK(r, structure));
}

/* ---- departments ---- */

void jg_dept_name(const struct jg_region *g, const char *dept, char *out, size_t n)
{
	if (strncmp(dept, "吉林省", 9) == 0 || strstr(dept, g->name) == dept)
		snprintf(out, n, "%s", dept);
	else
		snprintf(out, n, "%s%s", g->name, dept);
}

void jg_dept_uscc(const struct jg_region *g, int dept_idx, char out[19])
{
	/* 11 机构编制 / 机关; the body fixed per (city, department) so that every record of
	 * one department carries the same code */
	uint64_t v = 0x5bd1e995ULL * (uint64_t)(g->index + 1) * 1000003ULL + (uint64_t)dept_idx;

	v ^= v >> 29;
	v *= 0xbf58476d1ce4e5b9ULL;
	v ^= v >> 32;
	jg_uscc_fixed(v, out, '1', '1', g->code);
}

static const struct {
	const char *dept, *abbr;
} abbrs[] = {
	{"发展和改革", "发改"},	    {"自然资源", "自然资"},
	{"住房和城乡建设", "住建"}, {"生态环境", "环"},
	{"交通运输", "交"},	    {"水利", "水"},
	{"人民防空", "人防"},	    {"城市管理", "城管"},
	{"林业和草原", "林草"},	    {"文化广播电视和旅游", "文旅"},
	{"应急管理", "应急"},	    {"气象", "气"},
	{"卫生健康", "卫健"},	    {"市场监督管理", "市监"},
	{"交通警察", "公交"},	    {"地震", "震"},
	{"国家安全", "安"},	    {"不动产登记", "不动产"},
};

void jg_dept_abbr(const struct jg_region *g, const char *dept, char *out, size_t n)
{
	size_t i;

	for (i = 0; i < sizeof(abbrs) / sizeof(abbrs[0]); i++)
		if (strstr(dept, abbrs[i].dept)) {
			snprintf(out, n, "%s%s", g->doc_abbr, abbrs[i].abbr);
			return;
		}
	snprintf(out, n, "%s审", g->doc_abbr);
}

const char *jg_dept_office(struct jg_rng *r, const char *dept)
{
	static const char *const fgw[] = {"投资科", "固定资产投资处", "行政审批科"};
	static const char *const zrzy[] = {"规划科", "用地科", "建设工程规划管理科", "行政审批科"};
	static const char *const zj[] = {"建筑市场监管科", "质量安全监督站", "行政审批科",
					 "城建档案馆", "消防审验科"};
	static const char *const other[] = {"行政审批科", "综合窗口", "法规科", "业务科"};

	if (strstr(dept, "发展和改革"))
		return JG_PICK(r, fgw);
	if (strstr(dept, "自然资源"))
		return JG_PICK(r, zrzy);
	if (strstr(dept, "住房和城乡建设"))
		return JG_PICK(r, zj);
	return JG_PICK(r, other);
}

/* ---- texts ---- */

const char *const jg_material_names[] = {
	"申请表",
	"营业执照副本",
	"授权委托书及受托人身份证明",
	"项目可行性研究报告",
	"建设用地规划许可证",
	"不动产权证书",
	"设计方案总平面图",
	"施工图设计文件审查合格书",
	"中标通知书",
	"施工合同",
	"监理合同",
	"工程质量安全承诺书",
	"环境影响报告表",
	"消防设计文件",
	"竣工验收报告",
	"建设工程规划许可证",
	"项目备案证明",
	"土地出让合同",
	"地形图",
	"建筑工程施工许可承诺书",
};
const int jg_nmaterial_names = N(jg_material_names);

const char *const jg_opinion_texts[] = {
	"同意。",
	"原则同意，请按规范完善消防设计。",
	"同意，请落实海绵城市建设要求。",
	"无意见。",
	"同意，施工期间注意扬尘治理。",
	"原则同意，请补充交通组织方案。",
	"同意，请按人防工程建设标准配建防空地下室。",
	"同意，注意保护周边既有管线。",
};
const int jg_nopinion_texts = N(jg_opinion_texts);

const char *const jg_return_reasons[] = {
	"申请材料不齐全，请补充后重新申报。",
	"申请表填写不规范，请核实后重新提交。",
	"缺少授权委托书，请补齐材料后重新申报。",
	"项目代码与备案信息不一致，请核实。",
	"设计方案总平面图未加盖设计单位公章，请补正后重新申报。",
};
const int jg_nreturn_reasons = N(jg_return_reasons);

const char *const jg_refuse_reasons[] = {
	"经审查，不符合国土空间规划要求，不予许可。",
	"经审查，项目不符合产业政策，不予许可。",
	"经专家评审，设计方案未通过，不予许可。",
};
const int jg_nrefuse_reasons = N(jg_refuse_reasons);

const char *const jg_void_reasons[] = {
	"重复录入，作废",
	"项目取消，申请作废",
	"录入错误，已重新申报",
	"建设单位申请撤销项目",
};
const int jg_nvoid_reasons = N(jg_void_reasons);

/* 特别程序: 听证, 专家评审, 公示, 其他 (TBCX 1, 2, 3, 8) */
const char *const jg_proc_names[4][3] = {
	{"听证会", "规划许可听证", "利害关系人听证"},
	{"专家评审", "初步设计专家评审", "技术方案专家论证"},
	{"批前公示", "规划方案公示", "环境影响评价公示"},
	{"现场踏勘", "补充检测", "征求相关部门意见"},
};
