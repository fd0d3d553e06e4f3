-- The provincial approval platform's database as spgw sees it (shared spec section 5): one
-- schema `jlsp`, one set of tables for the eight cities on the platform, each row tagged with
-- its city (area_code). Loaded by pg.sh into a database created with ENCODING 'SQL_ASCII', as
-- the real platform is: text columns hold raw bytes, mostly UTF-8, a few legacy rows GBK.
--
-- Every table has the same four control columns, which the adapter (plugins/provincial)
-- relies on and nothing else:
--   row_id     bigint primary key, unique across the cities; the record key is prefix+row_id
--   area_code  char(6), the city (行政区划代码) the row belongs to
--   upd_time   timestamp(3), set on every insert and change; NOT unique (many rows share one
--              value), so the adapter pages on (upd_time, row_id)
--   yxbz/zfyy  有效标志 1 valid / 0 void, and 作废原因 for a void row
-- The column order of each table is the order of the CSV files load.sh reads (README.md).
-- Legacy types are kept on purpose: nkgsj/njcsj are text that may hold impossible dates, codes
-- are the platform's own (numeric or short letters), money is in 万元.
--
-- Idempotent for the schema objects it creates only when they are missing; run it on an empty
-- database (pg.sh does) or drop schema jlsp first.

\set ON_ERROR_STOP on

CREATE SCHEMA IF NOT EXISTS jlsp;

-- 项目 (one row per engineering GCDM of a project)
CREATE TABLE IF NOT EXISTS jlsp.t_project (
	row_id     bigint PRIMARY KEY,
	area_code  char(6) NOT NULL,
	xmdm       varchar(64),            -- 项目代码
	gcdm       varchar(64),            -- 工程代码 (= xmdm when not split)
	gcfw       text,                   -- 工程范围
	xmmc       varchar,                -- 项目名称
	lclx       smallint,               -- 审批流程类型 1..5
	splcbm     varchar(64),            -- 审批流程编码 (JL-LC-0n)
	splcbbh    numeric(4,1),           -- 审批流程版本号
	tzly       varchar(8),             -- 投资来源 ZF 政府 / SH 社会
	tdhqfs     varchar(8),             -- 土地获取方式 HB 划拨 / CR 出让 / QT 其他
	tdsfdsjfa  smallint,               -- 土地是否带设计方案 0/1
	sfwcqypg   smallint,               -- 是否完成区域评估 0/1
	lxlx       varchar(8),             -- 立项类型 SP 审批 / HZ 核准 / BA 备案
	gcfl       varchar(8),             -- 工程分类: the national number as text ("23", "31")
	jsxz       varchar(8),             -- 建设性质 XJ 新建 / KJ 扩建 / GJ 改建 / QJ 迁建
	xmzjsx     varchar(8),             -- 项目资金属性 CZ 财政资金 / ZC 自筹资金 / QT 其他
	gbhy       varchar(16),            -- 国标行业 (GB/T 4754-2017, "E4710" or "4710")
	nkgsj      varchar(20),            -- 拟开工时间, legacy text: "2026-11-03", "2026/11", ...
	njcsj      varchar(20),            -- 拟建成时间, likewise
	xmsfwqbj   smallint,               -- 项目是否完全办结 0/1
	xmwqbjsj   date,                   -- 项目完全办结时间
	ztze       numeric(18,4),          -- 总投资额 in 万元
	jsddxzqh   varchar(200),           -- 建设地点行政区划 (county code or comma list)
	jsdd       varchar,                -- 建设地点
	jsgmjnr    text,                   -- 建设规模及内容
	ydmj       numeric,                -- 用地面积 m²
	jzmj       numeric,                -- 建筑面积 m²
	sbsj       date,                   -- 申报时间
	jsdw       varchar,                -- 建设单位
	jsdwdm     varchar(32),            -- 建设单位统一社会信用代码
	jsdwlx     smallint,               -- 建设单位类型
	xmjwdzb    varchar(100),           -- 经纬度 "lng,lat"
	upd_time   timestamp(3) NOT NULL,
	yxbz       smallint NOT NULL DEFAULT 1,
	zfyy       text
);

-- 项目单位
CREATE TABLE IF NOT EXISTS jlsp.t_unit (
	row_id     bigint PRIMARY KEY,
	area_code  char(6) NOT NULL,
	xmdm       varchar(64),
	gcdm       varchar(64),
	dwdm       varchar(32),            -- 单位统一社会信用代码
	dwmc       varchar,                -- 单位名称
	dwlx       varchar(8),             -- 单位类型 JS 建设 / KC 勘察 / SJ 设计 / SG 施工 / JL 监理
	upd_time   timestamp(3) NOT NULL,
	yxbz       smallint NOT NULL DEFAULT 1,
	zfyy       text
);

-- 办件 (one row per case)
CREATE TABLE IF NOT EXISTS jlsp.t_case (
	row_id     bigint PRIMARY KEY,
	area_code  char(6) NOT NULL,
	gcdm       varchar(64),
	sxbm       varchar(64),            -- 审批事项编码 (JL-SX-nnn)
	sxbbh      numeric(4,1),           -- 审批事项版本号
	splcbm     varchar(64),
	splcbbh    numeric(4,1),
	slbh       varchar(64),            -- 受理编号 = 审批事项实例编码 (case number)
	bmbm       varchar(64),            -- 审批部门编码
	bmmc       varchar,                -- 审批部门名称
	slfs       smallint,               -- 受理方式 (national code)
	gkfs       smallint,               -- 公开方式 (national code)
	blspslbm   varchar(64),            -- 并联审批实例编码
	sxblsx     integer,                -- 事项办理时限, working days
	lxr        varchar,                -- 联系人
	lxrsjh     varchar(20),            -- 联系人手机号
	upd_time   timestamp(3) NOT NULL,
	yxbz       smallint NOT NULL DEFAULT 1,
	zfyy       text
);

-- 办理过程 (one row per handling event of a case)
CREATE TABLE IF NOT EXISTS jlsp.t_step (
	row_id     bigint PRIMARY KEY,
	area_code  char(6) NOT NULL,
	gcdm       varchar(64),
	slbh       varchar(64),
	blcs       varchar,                -- 办理处（科）室
	blr        varchar,                -- 办理人
	blzt       varchar(4),             -- 办理状态, provincial codes 10 12 20 21 22 30 31 40 50 51 90 91 92 98 99
	blyj       text,                   -- 办理意见
	blsj       timestamp(0),           -- 办理时间, Beijing time
	dwmc       varchar,                -- 办理单位名称
	dwdm       varchar(32),            -- 办理单位统一社会信用代码
	upd_time   timestamp(3) NOT NULL,
	yxbz       smallint NOT NULL DEFAULT 1,
	zfyy       text
);

-- 批复文件
CREATE TABLE IF NOT EXISTS jlsp.t_doc (
	row_id     bigint PRIMARY KEY,
	area_code  char(6) NOT NULL,
	gcdm       varchar(64),
	slbh       varchar(64),
	pfwh       varchar,                -- 批复文号
	pfwjbt     varchar,                -- 批复文件标题
	pfrq       date,                   -- 批复日期
	pfwjyxqx   date,                   -- 批复文件有效期限 (9999-01-01: no expiry)
	fjmc       varchar,                -- 附件名称
	fjlx       varchar(20),            -- 附件类型 (pdf, ofd, jpg)
	fjid       varchar(500),           -- 附件ID / address
	spjglx     varchar(4),             -- 审批结果类型 10 / 20 / 30
	zzbh       varchar(100),           -- 证照编号
	upd_time   timestamp(3) NOT NULL,
	yxbz       smallint NOT NULL DEFAULT 1,
	zfyy       text
);

-- 特别程序
CREATE TABLE IF NOT EXISTS jlsp.t_tbcx (
	row_id     bigint PRIMARY KEY,
	area_code  char(6) NOT NULL,
	gcdm       varchar(64),
	slbh       varchar(64),
	tbcx       varchar(8),             -- 特别程序 TZ 听证 / ZJ 专家评审 / GS 公示 / QT 其他
	tbcxmc     varchar,                -- 特别程序名称
	tbcxkssj   date,                   -- 特别程序开始时间 (the day of the 特别程序开始 step)
	tbcxsxlx   smallint,               -- 特别程序时限类型 1 工作日 / 2 自然日
	tbcxsx     integer,                -- 特别程序时限 (days)
	upd_time   timestamp(3) NOT NULL,
	yxbz       smallint NOT NULL DEFAULT 1,
	zfyy       text
);

-- 申请材料
CREATE TABLE IF NOT EXISTS jlsp.t_material (
	row_id     bigint PRIMARY KEY,
	area_code  char(6) NOT NULL,
	gcdm       varchar(64),
	slbh       varchar(64),
	clmlbh     varchar(64),            -- 材料目录编号
	clmc       varchar,                -- 材料名称
	clfl       smallint,               -- 材料分类 (national code 1..9)
	cllx       varchar(20),            -- 材料类型 (file type)
	clid       varchar(500),           -- 材料ID / address
	sqfs       smallint,               -- 收取方式 (national code 1..9)
	sqsl       integer,                -- 收取数量 (copies)
	upd_time   timestamp(3) NOT NULL,
	yxbz       smallint NOT NULL DEFAULT 1,
	zfyy       text
);

-- 征求意见
CREATE TABLE IF NOT EXISTS jlsp.t_opinion (
	row_id     bigint PRIMARY KEY,
	area_code  char(6) NOT NULL,
	gcdm       varchar(64),
	slbh       varchar(64),
	bldwdm     varchar(64),            -- 办理单位代码
	bldwmc     varchar,                -- 办理单位名称
	fksj       timestamp(0),           -- 反馈时间
	blr        varchar,                -- 办理人
	fkyj       text,                   -- 反馈意见
	fjmc       varchar,                -- 附件名称
	fjid       varchar(500),           -- 附件ID / address
	upd_time   timestamp(3) NOT NULL,
	yxbz       smallint NOT NULL DEFAULT 1,
	zfyy       text
);

-- Keyset paging: the adapter reads WHERE area_code = $1 AND (upd_time, row_id) > ($2, $3)
-- ORDER BY upd_time, row_id LIMIT n; this index serves it as one range scan per page.
CREATE INDEX IF NOT EXISTS t_project_keyset  ON jlsp.t_project  (area_code, upd_time, row_id);
CREATE INDEX IF NOT EXISTS t_unit_keyset     ON jlsp.t_unit     (area_code, upd_time, row_id);
CREATE INDEX IF NOT EXISTS t_case_keyset     ON jlsp.t_case     (area_code, upd_time, row_id);
CREATE INDEX IF NOT EXISTS t_step_keyset     ON jlsp.t_step     (area_code, upd_time, row_id);
CREATE INDEX IF NOT EXISTS t_doc_keyset      ON jlsp.t_doc      (area_code, upd_time, row_id);
CREATE INDEX IF NOT EXISTS t_tbcx_keyset     ON jlsp.t_tbcx     (area_code, upd_time, row_id);
CREATE INDEX IF NOT EXISTS t_material_keyset ON jlsp.t_material (area_code, upd_time, row_id);
CREATE INDEX IF NOT EXISTS t_opinion_keyset  ON jlsp.t_opinion  (area_code, upd_time, row_id);
-- count(): a case's business day is the day of its earliest step, a unit's its project's.
CREATE INDEX IF NOT EXISTS t_step_case       ON jlsp.t_step     (area_code, gcdm, slbh, blsj);
CREATE INDEX IF NOT EXISTS t_project_gcdm    ON jlsp.t_project  (area_code, gcdm);

-- The gateway's read-only role: SELECT on these tables and nothing else. Its password is set
-- by pg.sh (never in this file); it logs in over TCP with scram-sha-256 (pg_hba.conf).
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'spgw_reader') THEN
		CREATE ROLE spgw_reader LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION
			CONNECTION LIMIT 32;
	END IF;
END
$$;
ALTER ROLE spgw_reader SET default_transaction_read_only = on;
REVOKE ALL ON SCHEMA jlsp FROM PUBLIC;
GRANT USAGE ON SCHEMA jlsp TO spgw_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA jlsp TO spgw_reader;
ALTER DEFAULT PRIVILEGES IN SCHEMA jlsp GRANT SELECT ON TABLES TO spgw_reader;
