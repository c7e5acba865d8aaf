"""Generate a realistic plan-tracking data set of any size into a PostgreSQL bench database.

One generator for every benchmark (API, reminders, dashboard):

    python bench/generate.py --database-url postgres://postgres@127.0.0.1:5432/plan_tracker_bench \\
        --agencies 260 --tasks 20000 --updates-per-task 3 --updated-fraction 0.1 --reset

    from bench.generate import generate
    summary = generate(agencies=260, tasks=200_000, updates_per_task=10, updated_fraction=1.0)

Shape of the data (per province; `--provinces N` repeats it for a national-scale set):

- a province root (UBND tỉnh), ~20 departments (sở) with a few public-service units, ~10
  districts, each with specialised offices (phòng) and communes; levels province / district /
  commune as in the demo plan;
- one plan per province with the nine priority areas of the 2022 plan, over the twelve
  months around `today` (most of the year behind, a quarter ahead), so that every report
  category occurs at today's date;
- tasks led mostly by departments and districts, due dates spread over the year (month and
  quarter ends more often), ~8 % regular tasks without a due date, 0–3 coordinating
  agencies, KPI targets on some; a share of plan items split per district (parent + one
  child per district, as `task_split` does);
- status updates on a share of the tasks, recorded over time by the lead agency's officer:
  not started → in progress (rising progress) → completed with a completion date, some
  awaiting confirmation and confirmed by the monitor, a few withdrawn; the task row mirrors
  its latest update as `status_update_record` does, and parents roll up their children;
- approved, rejected and pending deadline extensions (an approval moves `due`, keeps
  `original_due`);
- demo-like users, all with one known password: `sotttt` (monitor), `lanhdao` (leader), one
  manager per district named after it (`haihau`, `giaothuy`… in the first province), and one
  officer per agency (`cb_<agency code>`).

Rows are written in batches of 5,000 tasks, one transaction per batch: agencies, users and
tasks with bulk_create, the high-volume narrow tables (status updates, coordinating agencies)
with COPY. `save()` does not run, so `Agency.path` and the `search_text` columns are computed
here exactly as the models' `save()` computes them (see `tasks_app.models`,
`tasks_app.search.fold`), and the task row mirrors its latest update as the services do.

The database is created (and migrated) when missing or with `reset`; it refuses to write
into a database that already holds data, unless `reuse` finds the same parameters there
(the generator leaves its parameters as a comment on the database).
"""

from __future__ import annotations

import argparse
import datetime
import math
import random
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

if __package__ in (None, ""):  # run as a script: make `bench` and the project importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    DEFAULT_DATABASE_URL,
    create_database,
    database_exists,
    database_size,
    drop_database,
    log,
    migrate,
    read_database_comment,
    setup_django,
    write_database_comment,
)

GENERATOR_VERSION = 1
DEFAULT_PASSWORD = "bench-pass-2025"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")
BATCH_SIZE = 5000

# --- Reference data (Vietnamese names as users read them) -------------------------------------

PROVINCES = [
    "Nam Định", "Thái Bình", "Ninh Bình", "Hà Nam", "Hưng Yên", "Hải Dương", "Bắc Ninh",
    "Vĩnh Phúc", "Phú Thọ", "Thanh Hóa", "Nghệ An", "Hà Tĩnh", "Quảng Ninh", "Lạng Sơn",
    "Bắc Giang", "Thái Nguyên", "Tuyên Quang", "Yên Bái", "Lào Cai", "Hòa Bình",
]  # fmt: skip

# (code, name, short name, document code); Sở TT&TT first: it monitors the plan.
DEPARTMENTS = [
    ("STTTT", "Sở Thông tin và Truyền thông", "Sở TT&TT", "STTTT"),
    ("VP_UBND", "Văn phòng Ủy ban nhân dân tỉnh", "VP UBND tỉnh", "VP"),
    ("SNV", "Sở Nội vụ", "Sở Nội vụ", "SNV"),
    ("STC", "Sở Tài chính", "Sở Tài chính", "STC"),
    ("SKHDT", "Sở Kế hoạch và Đầu tư", "Sở KH&ĐT", "SKHĐT"),
    ("SYT", "Sở Y tế", "Sở Y tế", "SYT"),
    ("SGDDT", "Sở Giáo dục và Đào tạo", "Sở GD&ĐT", "SGDĐT"),
    ("STNMT", "Sở Tài nguyên và Môi trường", "Sở TN&MT", "STNMT"),
    ("SCT", "Sở Công Thương", "Sở Công Thương", "SCT"),
    ("SNNPTNT", "Sở Nông nghiệp và Phát triển nông thôn", "Sở NN&PTNT", "SNN"),
    ("SGTVT", "Sở Giao thông vận tải", "Sở GTVT", "SGTVT"),
    ("SXD", "Sở Xây dựng", "Sở Xây dựng", "SXD"),
    ("SLDTBXH", "Sở Lao động - Thương binh và Xã hội", "Sở LĐ-TB&XH", "SLĐTBXH"),
    ("SVHTTDL", "Sở Văn hóa, Thể thao và Du lịch", "Sở VH,TT&DL", "SVHTTDL"),
    ("SKHCN", "Sở Khoa học và Công nghệ", "Sở KH&CN", "SKHCN"),
    ("STP", "Sở Tư pháp", "Sở Tư pháp", "STP"),
    ("TTT", "Thanh tra tỉnh", "Thanh tra tỉnh", "TTr"),
    ("BQLKCN", "Ban Quản lý các khu công nghiệp tỉnh", "BQL các KCN", "BQLKCN"),
    ("CA_TINH", "Công an tỉnh", "Công an tỉnh", "CAT"),
    ("DPTTH", "Đài Phát thanh và Truyền hình tỉnh", "Đài PT-TH tỉnh", "ĐPTTH"),
    ("SNGV", "Sở Ngoại vụ", "Sở Ngoại vụ", "SNgV"),
    ("BHXH", "Bảo hiểm xã hội tỉnh", "BHXH tỉnh", "BHXH"),
]
# Public-service units, by parent department code.
UNITS = [
    ("STTTT", "Trung tâm Công nghệ thông tin và Truyền thông", "TT CNTT&TT"),
    ("VP_UBND", "Trung tâm Phục vụ hành chính công tỉnh", "TT PVHCC"),
    ("SYT", "Trung tâm Kiểm soát bệnh tật tỉnh", "CDC tỉnh"),
    ("SGDDT", "Trung tâm Giáo dục thường xuyên tỉnh", "TT GDTX"),
    ("STNMT", "Văn phòng Đăng ký đất đai", "VP ĐKĐĐ"),
    ("SNNPTNT", "Trung tâm Khuyến nông tỉnh", "TT Khuyến nông"),
    ("SKHDT", "Trung tâm Xúc tiến đầu tư", "TT XTĐT"),
    ("SYT", "Bệnh viện Đa khoa tỉnh", "BVĐK tỉnh"),
    ("SLDTBXH", "Trung tâm Dịch vụ việc làm", "TT DVVL"),
    ("SVHTTDL", "Thư viện tỉnh", "Thư viện tỉnh"),
    ("SKHCN", "Trung tâm Thông tin và Thống kê khoa học và công nghệ", "TT TT&TK KH&CN"),
    ("SCT", "Trung tâm Khuyến công và Xúc tiến thương mại", "TT KC&XTTM"),
]
# (code, name) of the districts of the first province (Nam Định, 2022).
DISTRICTS_FIRST = [
    ("TPNAMDINH", "thành phố Nam Định"),
    ("MYLOC", "huyện Mỹ Lộc"),
    ("VUBAN", "huyện Vụ Bản"),
    ("YYEN", "huyện Ý Yên"),
    ("NAMTRUC", "huyện Nam Trực"),
    ("TRUCNINH", "huyện Trực Ninh"),
    ("XUANTRUONG", "huyện Xuân Trường"),
    ("GIAOTHUY", "huyện Giao Thủy"),
    ("HAIHAU", "huyện Hải Hậu"),
    ("NGHIAHUNG", "huyện Nghĩa Hưng"),
]
SYLLABLES = [
    "An", "Bắc", "Châu", "Chính", "Cường", "Đông", "Đường", "Giang", "Hà", "Hòa", "Hưng",
    "Lạc", "Long", "Lộc", "Lý", "Minh", "Nam", "Ninh", "Phong", "Phú", "Phúc", "Phương",
    "Quang", "Sơn", "Tân", "Thanh", "Thịnh", "Tiến", "Toàn", "Triều", "Trung", "Vân", "Xuân",
    "Yên", "Hồng", "Khánh", "Mỹ", "Nghĩa", "Thắng", "Thành", "Lợi", "Hải", "Điền", "Tây",
]  # fmt: skip
OFFICES = [
    ("Văn phòng HĐND và UBND", "VP HĐND-UBND"),
    ("Phòng Văn hóa và Thông tin", "Phòng VH-TT"),
    ("Phòng Nội vụ", "Phòng Nội vụ"),
    ("Phòng Tài chính - Kế hoạch", "Phòng TC-KH"),
    ("Phòng Giáo dục và Đào tạo", "Phòng GD&ĐT"),
    ("Phòng Tài nguyên và Môi trường", "Phòng TN&MT"),
    ("Phòng Y tế", "Phòng Y tế"),
]
PRIORITY_AREAS = [
    ("DTTM", "Xây dựng đô thị thông minh", "Smart city", "do_thi_thong_minh"),
    ("CQDT", "Phát triển chính quyền điện tử, chính quyền số", "Digital government",
     "hd_chinh_quyen_so"),
    ("YTE", "Chuyển đổi số lĩnh vực y tế", "Digital health", "hd_xa_hoi_so"),
    ("GDDT", "Chuyển đổi số lĩnh vực giáo dục và đào tạo", "Education and training",
     "hd_xa_hoi_so"),
    ("TNMT", "Chuyển đổi số lĩnh vực tài nguyên và môi trường",
     "Natural resources and environment", None),
    ("NTCDS", "Nâng cao nhận thức về chuyển đổi số cho cán bộ, người dân, doanh nghiệp",
     "DX awareness training", "nhan_thuc_so"),
    ("PMDC", "Tập huấn quản trị, sử dụng phần mềm dùng chung 3 cấp",
     "Shared-software training (3 levels)", "nhan_luc_so"),
    ("BAOCHI", "Thông tin tuyên truyền, phát ngôn và cung cấp thông tin cho báo chí",
     "Press, spokesperson and communication", None),
    ("TTCS", "Phát triển thông tin cơ sở", "Grassroots information", "ha_tang_so"),
]  # fmt: skip
DTI_2022 = [
    ("nhan_thuc_so", "Nhận thức số", 100),
    ("the_che_so", "Thể chế số", 100),
    ("ha_tang_so", "Hạ tầng số", 100),
    ("nhan_luc_so", "Nhân lực số", 100),
    ("attt_mang", "An toàn thông tin mạng", 100),
    ("do_thi_thong_minh", "Đô thị thông minh", 0),
    ("hd_chinh_quyen_so", "Hoạt động chính quyền số", 200),
    ("hd_kinh_te_so", "Hoạt động kinh tế số", 150),
    ("hd_xa_hoi_so", "Hoạt động xã hội số", 150),
]
TITLES = {
    "DTTM": [
        "Xây dựng Trung tâm giám sát, điều hành đô thị thông minh (IOC)",
        "Lắp đặt camera giám sát an ninh, trật tự và giao thông",
        "Triển khai wifi công cộng tại khu vực trung tâm",
        "Số hóa bản đồ quy hoạch đô thị",
    ],
    "CQDT": [
        "Cung cấp dịch vụ công trực tuyến toàn trình",
        "Số hóa hồ sơ, kết quả giải quyết thủ tục hành chính",
        "Triển khai chữ ký số cho cán bộ, công chức",
        "Kết nối, chia sẻ dữ liệu với Cơ sở dữ liệu quốc gia về dân cư",
        "Vận hành hệ thống quản lý văn bản và điều hành liên thông",
        "Báo cáo trực tuyến trên Hệ thống thông tin báo cáo",
    ],
    "YTE": [
        "Triển khai hồ sơ sức khỏe điện tử cho người dân",
        "Thanh toán viện phí không dùng tiền mặt",
        "Triển khai bệnh án điện tử",
        "Khám chữa bệnh từ xa kết nối tuyến tỉnh",
    ],
    "GDDT": [
        "Triển khai sổ điểm, học bạ điện tử",
        "Xây dựng kho học liệu số dùng chung",
        "Thu học phí không dùng tiền mặt",
    ],
    "TNMT": [
        "Xây dựng cơ sở dữ liệu đất đai",
        "Lắp đặt trạm quan trắc môi trường tự động",
        "Số hóa hồ sơ địa chính",
    ],
    "NTCDS": [
        "Tập huấn kỹ năng số cho cán bộ, công chức",
        "Phát triển tổ công nghệ số cộng đồng",
        "Hướng dẫn người dân cài đặt, sử dụng ứng dụng VNeID",
    ],
    "PMDC": [
        "Tập huấn sử dụng phần mềm quản lý văn bản 3 cấp",
        "Tập huấn vận hành Cổng dịch vụ công và Hệ thống một cửa điện tử",
    ],
    "BAOCHI": [
        "Tuyên truyền về chuyển đổi số trên cổng thông tin điện tử",
        "Xây dựng chuyên mục chuyển đổi số trên báo, đài",
        "Tổ chức họp báo cung cấp thông tin định kỳ",
    ],
    "TTCS": [
        "Nâng cấp đài truyền thanh cơ sở ứng dụng CNTT - viễn thông",
        "Thiết lập bảng tin điện tử công cộng",
    ],
}
KPIS = [("hồ sơ", 500, 50_000), ("%", 100, 100), ("lượt cán bộ", 50, 800),
        ("camera", 10, 300), ("thủ tục", 20, 300), ("tài khoản", 1_000, 100_000)]  # fmt: skip
RESULTS = [
    "Đã hoàn thành, có báo cáo kết quả kèm theo.",
    "Hệ thống đã đưa vào vận hành chính thức.",
    "Đã tổ chức thực hiện xong theo kế hoạch.",
]
DIFFICULTIES = [
    "",
    "",
    "Kinh phí được giao chậm.",
    "Thiếu nhân lực chuyên trách công nghệ thông tin.",
    "Hạ tầng mạng tại cơ sở chưa đáp ứng.",
]


# --- Shape -------------------------------------------------------------------------------------


def _split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


def province_shape(budget: int) -> dict[str, int]:
    """How many agencies of each kind a province with `budget` agencies gets.

    260 gives 1 root + 20 departments + 10 units + 10 districts + 30 offices + 189 communes.
    """
    if budget < 4:
        raise SystemExit("Each province needs at least 4 agencies.")
    departments = min(20, max(1, (budget - 1) // 12))
    districts = min(10, max(1, (budget - 1 - departments) // 20))
    rest = budget - 1 - departments - districts
    units = min(departments // 2, rest // 20, len(UNITS))
    offices = min(3 * districts, (rest - units) // 6)
    communes = rest - units - offices
    return {
        "departments": departments,
        "units": units,
        "districts": districts,
        "offices": offices,
        "communes": communes,
    }


@dataclass
class AgencyRow:
    pk: int
    code: str
    name: str
    short: str
    kind: str
    level: str
    parent: AgencyRow | None
    doc_code: str = ""
    place: str = ""
    path: str = ""
    province: int = 0
    weight: float = 1.0  # how many tasks it leads, relative to others


@dataclass
class Province:
    index: int
    name: str
    root: AgencyRow
    monitor_agency: AgencyRow
    departments: list[AgencyRow] = field(default_factory=list)
    districts: list[AgencyRow] = field(default_factory=list)
    agencies: list[AgencyRow] = field(default_factory=list)


def _slug(text: str) -> str:
    from tasks_app.search import fold

    return "".join(ch for ch in fold(text) if ch.isalnum()).upper()


def build_agency_tree(total: int, provinces: int, rng: random.Random) -> list[Province]:
    """The agency tree (in memory, primary keys assigned here) of `provinces` provinces."""
    result: list[Province] = []
    next_pk = 1

    def add(prov: Province | None, **kw) -> AgencyRow:
        nonlocal next_pk
        row = AgencyRow(pk=next_pk, **kw)
        next_pk += 1
        row.path = f"{row.parent.path if row.parent else '/'}{row.pk}/"
        if prov is not None:
            prov.agencies.append(row)
        return row

    for p, budget in enumerate(_split(total, provinces)):
        shape = province_shape(budget)
        name = PROVINCES[p % len(PROVINCES)]
        if p >= len(PROVINCES):
            name = f"{name} {p // len(PROVINCES) + 1}"
        prefix = "" if provinces == 1 else f"P{p + 1:02d}_"
        root = AgencyRow(
            pk=next_pk,
            code=f"{prefix}UBND_TINH",
            name=f"Ủy ban nhân dân tỉnh {name}",
            short="UBND tỉnh",
            kind="ubnd",
            level="province",
            parent=None,
            doc_code="UBND",
            place=name,
            province=p,
            weight=2,
        )
        root.path = f"/{root.pk}/"
        next_pk += 1
        prov = Province(index=p, name=name, root=root, monitor_agency=root)
        prov.agencies.append(root)
        by_code = {}
        for i in range(shape["departments"]):
            code, dname, short, doc = DEPARTMENTS[i % len(DEPARTMENTS)]
            if i >= len(DEPARTMENTS):
                code, dname = f"{code}{i // len(DEPARTMENTS) + 1}", f"{dname} {i}"
            dept = add(
                prov,
                code=f"{prefix}{code}",
                name=dname,
                short=short,
                kind="press" if code == "DPTTH" else "so",
                level="province",
                parent=root,
                doc_code=doc,
                place=name,
                province=p,
                weight=8,
            )
            prov.departments.append(dept)
            by_code[code] = dept
        prov.monitor_agency = prov.departments[0]
        units = [u for u in UNITS if u[0] in by_code][: shape["units"]]
        for j, (parent_code, uname, short) in enumerate(units):
            add(
                prov,
                code=f"{prefix}{parent_code}_DV{j + 1}",
                name=uname,
                short=short,
                kind="don_vi",
                level="province",
                parent=by_code[parent_code],
                place=name,
                province=p,
                weight=3,
            )
        for k in range(shape["districts"]):
            if p == 0 and k < len(DISTRICTS_FIRST):
                code, dname = DISTRICTS_FIRST[k]
            else:
                syl = SYLLABLES[(p * 7 + k * 3) % len(SYLLABLES)]
                syl2 = SYLLABLES[(p * 5 + k * 11 + 1) % len(SYLLABLES)]
                dname = f"huyện {syl} {syl2}"
                code = _slug(f"{syl}{syl2}{k}")
            district = add(
                prov,
                code=f"{prefix}{code}",
                name=f"Ủy ban nhân dân {dname}",
                short=f"UBND {dname}",
                kind="ubnd",
                level="district",
                parent=root,
                doc_code="UBND",
                place=dname.split(" ", 1)[1] if dname.startswith("huyện ") else name,
                province=p,
                weight=6,
            )
            prov.districts.append(district)
        for k, count in enumerate(_split(shape["offices"], shape["districts"])):
            district = prov.districts[k]
            for j in range(count):
                oname, short = OFFICES[j % len(OFFICES)]
                add(
                    prov,
                    code=f"{district.code}_P{j + 1}",
                    name=f"{oname} {district.name.removeprefix('Ủy ban nhân dân ')}",
                    short=short,
                    kind="phong",
                    level="district",
                    parent=district,
                    place=district.place,
                    province=p,
                    weight=2,
                )
        for k, count in enumerate(_split(shape["communes"], shape["districts"])):
            district = prov.districts[k]
            first = district.place.split()[0] if district.place else "Tân"
            ward = district.code.endswith("TPNAMDINH")
            names = rng.sample(SYLLABLES, min(count, len(SYLLABLES)))
            for j in range(count):
                cname = f"{first} {names[j % len(names)]}"
                if j >= len(names):
                    cname = f"{cname} {j // len(names) + 1}"
                label = f"phường {cname}" if ward else f"xã {cname}"
                add(
                    prov,
                    code=f"{district.code}_X{j + 1:02d}",
                    name=f"Ủy ban nhân dân {label}",
                    short=f"UBND {label}",
                    kind="ubnd",
                    level="commune",
                    parent=district,
                    place=district.place,
                    province=p,
                    weight=1,
                )
        result.append(prov)
    return result


# --- Task histories ----------------------------------------------------------------------------


def _at(day: datetime.date, rng: random.Random) -> datetime.datetime:
    """A working-hours moment of `day` in Asia/Ho_Chi_Minh."""
    minute = rng.randint(7 * 60 + 30, 17 * 60 + 30)
    return datetime.datetime.combine(
        day, datetime.time(minute // 60, minute % 60, rng.randint(0, 59)), tzinfo=TZ
    )


def _month_end(day: datetime.date) -> datetime.date:
    following = (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def _random_day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    if end <= start:
        return start
    return start + datetime.timedelta(days=rng.randint(0, (end - start).days))


@dataclass
class Clock:
    today: datetime.date
    now: datetime.datetime  # nothing is recorded after this instant
    period_start: datetime.date
    period_end: datetime.date


def make_clock(today: datetime.date | None) -> Clock:
    real_now = datetime.datetime.now(TZ)
    today = today or real_now.date()
    if today >= real_now.date():
        now = real_now.replace(microsecond=0)
    else:
        now = datetime.datetime.combine(today, datetime.time(18, 0), tzinfo=TZ)
    # Twelve months that started nine months ago: most deadlines behind, some ahead.
    first = today.replace(day=1)
    year, month = first.year, first.month - 9
    while month < 1:
        year, month = year - 1, month + 12
    period_start = datetime.date(year, month, 1)
    period_end = period_start.replace(year=period_start.year + 1) - datetime.timedelta(days=1)
    return Clock(today=today, now=now, period_start=period_start, period_end=period_end)


def due_dates(rng: random.Random, clock: Clock) -> tuple[datetime.date, datetime.date | None]:
    """(assigned_on, original_due); None for a regular task (~8 %)."""
    if rng.random() < 0.7:
        assigned = clock.period_start + datetime.timedelta(days=rng.randint(0, 45))
    else:
        assigned = _random_day(rng, clock.period_start, clock.today - datetime.timedelta(days=7))
    assigned = min(assigned, clock.today)
    if rng.random() < 0.08:
        return assigned, None
    earliest = max(assigned + datetime.timedelta(days=14), clock.period_start.replace(day=28))
    due = _random_day(rng, earliest, clock.period_end)
    roll = rng.random()
    if roll < 0.25:
        due = _month_end(due)
    elif roll < 0.40:  # quarter ends
        quarter_month = ((due.month - 1) // 3) * 3 + 3
        due = _month_end(due.replace(month=quarter_month, day=1))
    return assigned, max(min(due, clock.period_end), assigned)


@dataclass
class History:
    """What happened to one task: its updates (as dicts), extensions and final state."""

    updates: list[dict]
    extensions: list[dict]
    due: datetime.date | None
    state: str = "not_started"
    progress: int = 0
    completed_on: datetime.date | None = None
    result: str = ""
    kpi_actual: float | None = None
    version: int = 1


def make_extensions(
    rng: random.Random, clock: Clock, assigned: datetime.date, original_due, requester, decider
) -> tuple[list[dict], datetime.date | None]:
    """Maybe an extension request (5 % approved, 1 % rejected, 1 % pending), asked for a
    few days before the original deadline; returns the requests and the due date in force."""
    if original_due is None:
        return [], None
    roll = rng.random()
    if roll >= 0.07:
        return [], original_due
    status = "approved" if roll < 0.05 else ("rejected" if roll < 0.06 else "pending")
    requested_on = max(
        original_due - datetime.timedelta(days=rng.randint(1, 20)),
        assigned + datetime.timedelta(days=1),
    )
    if requested_on > clock.today:
        return [], original_due
    if requested_on > clock.today - datetime.timedelta(days=2):
        status = "pending"  # too recent to have been decided
    requested_at = min(_at(requested_on, rng), clock.now)
    ext = {
        "requested_by_id": requester,
        "requested_at": requested_at,
        "previous_due": original_due,
        "proposed_due": original_due + datetime.timedelta(days=rng.choice([15, 30, 45, 60, 90])),
        "reason": rng.choice(
            [
                "Chờ bố trí kinh phí thực hiện.",
                "Nhà cung cấp chậm bàn giao hệ thống.",
                "Cần thêm thời gian số hóa hồ sơ tồn đọng.",
            ]
        ),
        "status": status,
        "decided_by_id": None,
        "decided_at": None,
        "decision_note": "",
    }
    due = original_due
    if status != "pending":
        decided_at = requested_at + datetime.timedelta(days=rng.randint(1, 10), hours=2)
        ext["decided_at"] = min(decided_at, clock.now)
        ext["decided_by_id"] = decider
        if status == "approved":
            due = ext["proposed_due"]
            ext["decision_note"] = "Đồng ý gia hạn."
        else:
            ext["decision_note"] = "Không đồng ý: đề nghị bố trí nhân lực hoàn thành đúng hạn."
    return [ext], due


def make_history(
    rng: random.Random,
    clock: Clock,
    *,
    assigned: datetime.date,
    original_due: datetime.date | None,
    updates: int,
    author: int | None,
    agency: int,
    monitor: int | None,
    kpi_target: float | None,
    requester: int | None,
    decider: int | None,
) -> History:
    """A consistent history for one task, as status_update_record would have written it."""
    extensions, due = make_extensions(rng, clock, assigned, original_due, requester, decider)
    history = History(updates=[], extensions=extensions, due=due)
    history.version += sum(1 for e in extensions if e["status"] == "approved")
    start = assigned + datetime.timedelta(days=rng.randint(3, 30))
    if updates <= 0 or start >= clock.today:
        return history

    # 1. The outcome: most tasks past their deadline were finished, a few were stopped.
    roll = rng.random()
    past_due = due is not None and due < clock.today
    p_done = 0.65 if past_due else (0.15 if due is None else 0.2)
    if roll < 0.01:
        outcome = "withdrawn"
    elif roll < 0.04:
        outcome = "awaiting_confirmation"
    elif roll < 0.04 + p_done:
        outcome = "completed"
    else:
        outcome = "in_progress"

    # 2. The day of the last update; a finished task's completion date is near its deadline.
    completed_on = None
    if outcome in ("completed", "awaiting_confirmation"):
        target = due or (start + datetime.timedelta(days=rng.randint(30, 200)))
        completed_on = target + datetime.timedelta(days=rng.randint(-30, 20))
        completed_on = min(max(completed_on, start), clock.today)
        last_day = min(completed_on + datetime.timedelta(days=rng.randint(0, 4)), clock.today)
    else:
        last_day = max(clock.today - datetime.timedelta(days=rng.randint(0, 45)), start)

    # 3. Recorded times spread between the first report and the last, in order.
    span = (last_day - start).days
    days = sorted(rng.randint(0, span) for _ in range(updates - 1)) + [span]
    moments = sorted(min(_at(start + datetime.timedelta(days=d), rng), clock.now) for d in days)

    # 4. A completion is reported by the lead agency; half of the time, with two updates or
    #    more, it awaits confirmation first and the monitor confirms it.
    confirm = outcome == "completed" and updates >= 2 and monitor is not None and rng.random() < 0.5
    done_from = None
    if completed_on is not None:
        done_from = updates - 2 if confirm else updates - 1
        # Nobody reports a completion before it happened.
        completed_on = min(completed_on, moments[done_from].date())
    result_text = rng.choice(RESULTS)
    steps = sorted(rng.sample(range(5, 96), min(updates, 91)))

    for i, moment in enumerate(moments):
        kind, update_author, update_agency = "report", author, agency
        state, progress = "in_progress", steps[min(i, len(steps) - 1)]
        done_on, result, reason = None, "", ""
        if i == 0 and updates > 1 and rng.random() < 0.1:
            state, progress = "not_started", 0
        if done_from is not None and i >= done_from:
            progress, done_on, result = 100, completed_on, result_text
            waiting = outcome == "awaiting_confirmation" or (confirm and i == done_from)
            state = "awaiting_confirmation" if waiting else "completed"
            if confirm and i == updates - 1:
                kind, update_author, update_agency = "confirmation", monitor, None
        elif outcome == "withdrawn" and i == updates - 1:
            state, progress = "withdrawn", history.progress
            reason = "Dừng thực hiện theo chỉ đạo của UBND tỉnh."
        kpi = round(kpi_target * progress / 100, 2) if kpi_target is not None else None
        history.updates.append(
            {
                "kind": kind,
                "author_id": update_author,
                "agency_id": update_agency,
                "recorded_at": moment,
                "state": state,
                "progress": progress,
                "kpi_actual": kpi,
                "completed_on": done_on,
                "result": result,
                "difficulties": "" if kind == "confirmation" else rng.choice(DIFFICULTIES),
                "proposals": "",
                "reason": reason,
            }
        )
        # Mirror the latest update onto the task row (services._mirror_latest_update).
        history.state, history.progress, history.completed_on = state, progress, done_on
        if state in ("completed", "awaiting_confirmation"):
            history.result = result
        if kpi is not None:
            history.kpi_actual = kpi
        history.version += 1
    return history


# --- Writing -----------------------------------------------------------------------------------


class Phases:
    """Elapsed time and counts per phase, printed as the work goes."""

    def __init__(self, quiet: bool):
        self.quiet = quiet
        self.started = time.perf_counter()
        self.seconds: dict[str, float] = {}

    def done(self, phase: str, since: float, message: str) -> None:
        elapsed = time.perf_counter() - since
        self.seconds[phase] = self.seconds.get(phase, 0.0) + elapsed
        if not self.quiet:
            total = time.perf_counter() - self.started
            log("generate", f"{phase}: {message} ({elapsed:.1f} s, total {total:.1f} s)")


def _fingerprint(params: dict) -> dict:
    return {"generator": GENERATOR_VERSION, **params}


def generate(
    *,
    database_url: str = DEFAULT_DATABASE_URL,
    agencies: int = 260,
    tasks: int = 20_000,
    updates_per_task: int = 3,
    updated_fraction: float = 0.1,
    children_fraction: float = 0.05,
    provinces: int = 1,
    seed: int = 1,
    today: datetime.date | None = None,
    password: str = DEFAULT_PASSWORD,
    reset: bool = False,
    reuse: bool = False,
    quiet: bool = False,
) -> dict:
    """Fill the bench database and return a summary (counts, timings, users, password).

    With `reuse`, a database already generated with the same parameters is kept as it is
    (benchmarks that only read can run again without regenerating). `reset` drops and
    recreates the database first. Safe to call from a process where Django is already set
    up for the same database.
    """
    clock = make_clock(today)
    params = {
        "agencies": agencies,
        "tasks": tasks,
        "updates_per_task": updates_per_task,
        "updated_fraction": updated_fraction,
        "children_fraction": children_fraction,
        "provinces": provinces,
        "seed": seed,
        "today": clock.today.isoformat(),
    }
    phases = Phases(quiet)
    say = (lambda msg: None) if quiet else (lambda msg: log("generate", msg))

    # 1. The database: created and migrated when missing or reset; reused when asked.
    started = time.perf_counter()
    exists = database_exists(database_url)
    if exists and reuse and not reset:
        found = read_database_comment(database_url) or {}
        if found.get("params") == _fingerprint(params):
            say(f"reusing {database_url} generated {found.get('generated_at')}")
            # A set kept from an older revision gets the migrations added since (e.g. a
            # collation): the code measured must find the schema it was written for.
            migrate(database_url)
            setup_django(database_url)
            return found
        say("the database holds another data set: regenerating it")
        reset = True
    if exists and reset:
        _close_django_connections()
        drop_database(database_url)
        exists = False
    if not exists:
        create_database(database_url)
    migrate(database_url)
    phases.done("database", started, f"{'migrated' if exists else 'created and migrated'}")
    setup_django(database_url)
    from tasks_app.models import Agency

    if Agency.objects.exists():
        raise SystemExit(
            "The bench database already holds data: pass --reset to regenerate it"
            " (or --reuse to keep a set generated with the same parameters)."
        )
    write_database_comment(database_url, None)

    rng = random.Random(seed)
    counts = _write_everything(
        rng=rng,
        clock=clock,
        phases=phases,
        agencies=agencies,
        tasks=tasks,
        updates_per_task=updates_per_task,
        updated_fraction=updated_fraction,
        children_fraction=children_fraction,
        provinces=provinces,
        password=password,
    )

    started = time.perf_counter()
    _vacuum_analyze()
    phases.done("vacuum analyze", started, "statistics refreshed")
    summary = {
        "params": _fingerprint(params),
        "counts": counts["counts"],
        "users": counts["users"],
        "password": password,
        "seconds": {k: round(v, 1) for k, v in phases.seconds.items()},
        "total_seconds": round(time.perf_counter() - phases.started, 1),
        "generated_at": datetime.datetime.now(TZ).isoformat(timespec="seconds"),
        "database_size": database_size(database_url),
    }
    write_database_comment(database_url, summary)
    say(
        "done: "
        + ", ".join(f"{v} {k}" for k, v in summary["counts"].items())
        + f" in {summary['total_seconds']} s; database {summary['database_size']}"
    )
    return summary


def _close_django_connections() -> None:
    from django.apps import apps

    if apps.ready:
        from django.db import connections

        connections.close_all()


def _vacuum_analyze() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def _write_everything(
    *,
    rng: random.Random,
    clock: Clock,
    phases: Phases,
    agencies: int,
    tasks: int,
    updates_per_task: int,
    updated_fraction: float,
    children_fraction: float,
    provinces: int,
    password: str,
) -> dict:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.core.management.color import no_style
    from django.db import connection, transaction

    from tasks_app.models import (
        AdministrativeLevel,
        Agency,
        DeadlineExtension,
        DtiIndex,
        Membership,
        Plan,
        PriorityArea,
        StatusUpdate,
        Task,
    )
    from tasks_app.search import fold

    User = get_user_model()
    counts: dict[str, int] = {}

    # 2. Levels and the agency tree, with explicit keys so that `path` is known up front.
    started = time.perf_counter()
    tree = build_agency_tree(agencies, provinces, rng)
    with transaction.atomic():
        levels = {
            code: AdministrativeLevel.objects.create(code=code, name=name, order=order)
            for code, name, order in [
                ("province", "Cấp tỉnh", 1),
                ("district", "Cấp huyện", 2),
                ("commune", "Cấp xã", 3),
            ]
        }
        rows = [a for prov in tree for a in prov.agencies]
        Agency.objects.bulk_create(
            [
                Agency(
                    pk=a.pk,
                    code=a.code,
                    name=a.name,
                    short_name=a.short,
                    doc_code=a.doc_code,
                    level=levels[a.level],
                    parent_id=a.parent.pk if a.parent else None,
                    kind=a.kind,
                    place_name=a.place,
                    path=a.path,
                    # as Agency.save() does
                    search_text=fold(" ".join([a.code, a.name, a.short])),
                )
                for a in rows
            ],
            batch_size=BATCH_SIZE,
        )
        with connection.cursor() as cursor:
            for sql in connection.ops.sequence_reset_sql(no_style(), [Agency]):
                cursor.execute(sql)
    counts["agencies"] = len(rows)
    by_kind: dict[str, int] = {}
    for a in rows:
        key = f"{a.level}/{a.kind}"
        by_kind[key] = by_kind.get(key, 0) + 1
    phases.done(
        "agencies",
        started,
        f"{len(rows)} in {provinces} province(s): "
        + ", ".join(f"{v} {k}" for k, v in sorted(by_kind.items())),
    )

    # 3. Users: one officer per agency, a monitor and a leader per province, a manager per
    #    district; one password hash for all (hashing 10,000 passwords would take minutes).
    started = time.perf_counter()
    hashed = make_password(password)
    users: list = []
    memberships: list[tuple[str, int, str]] = []
    demo: dict = {"monitor": None, "leader": None, "managers": {}}
    for prov in tree:
        prefix = "" if provinces == 1 else f"p{prov.index + 1}_"
        monitor, leader = f"{prefix}sotttt", f"{prefix}lanhdao"
        users += [monitor, leader]
        memberships += [
            (monitor, prov.monitor_agency.pk, "monitor"),
            (leader, prov.root.pk, "leader"),
        ]
        if prov.index == 0:
            demo["monitor"], demo["leader"] = monitor, leader
        for district in prov.districts:
            name = district.code.lower()
            users.append(name)
            memberships.append((name, district.pk, "manager"))
            if prov.index == 0:
                demo["managers"][name] = district.pk
        for a in prov.agencies:
            name = f"cb_{a.code.lower()}"
            users.append(name)
            memberships.append((name, a.pk, "officer"))
    with transaction.atomic():
        created = User.objects.bulk_create(
            [
                User(username=u, email=f"{u}@bench.example.vn", password=hashed, is_active=True)
                for u in users
            ],
            batch_size=BATCH_SIZE,
        )
        user_pk = {u.username: u.pk for u in created}
        Membership.objects.bulk_create(
            [Membership(user_id=user_pk[u], agency_id=a, role=r) for u, a, r in memberships],
            batch_size=BATCH_SIZE,
        )
    officer_of = {a.pk: user_pk[f"cb_{a.code.lower()}"] for a in rows}
    monitor_of = {
        prov.index: user_pk[("" if provinces == 1 else f"p{prov.index + 1}_") + "sotttt"]
        for prov in tree
    }
    counts["users"] = len(users)
    phases.done("users", started, f"{len(users)} users, {len(memberships)} memberships")

    # 4. One plan per province with the nine priority areas, tagged with DTI indices.
    started = time.perf_counter()
    with transaction.atomic():
        dti = {
            code: DtiIndex.objects.create(edition=2022, code=code, name=name, points=points)
            for code, name, points in DTI_2022
        }
        plans, areas = {}, {}
        for prov in tree:
            prefix = "" if provinces == 1 else f"P{prov.index + 1:02d}-"
            plans[prov.index] = Plan.objects.create(
                code=f"{prefix}CDS-BENCH-{clock.period_start.year}",
                number=f"{100 + prov.index}/KH-UBND",
                title=f"Kế hoạch chuyển đổi số tỉnh {prov.name} "
                f"giai đoạn {clock.period_start:%m/%Y} - {clock.period_end:%m/%Y}",
                issuing_agency_id=prov.root.pk,
                monitor_agency_id=prov.monitor_agency.pk,
                issued_on=clock.period_start,
                period_start=clock.period_start,
                period_end=clock.period_end,
                leader_in_charge="Phó Chủ tịch UBND tỉnh",
            )
            areas[prov.index] = PriorityArea.objects.bulk_create(
                [
                    PriorityArea(
                        plan=plans[prov.index],
                        code=code,
                        name=name,
                        name_en=name_en,
                        order=i + 1,
                        dti_index=dti.get(tag) if tag else None,
                    )
                    for i, (code, name, name_en, tag) in enumerate(PRIORITY_AREAS)
                ]
            )
    phases.done("plans", started, f"{len(plans)} plan(s), {len(plans) * 9} priority areas")

    # 5. Tasks. Per province: parents (plan items split per district), their children,
    #    and standalone tasks, written in batches with their coordination rows, status
    #    updates and extensions in one transaction per batch.
    budgets = _split(tasks, provinces)
    totals = {"tasks": 0, "parents": 0, "children": 0, "coordinations": 0, "updates": 0,
              "extensions": 0}  # fmt: skip
    code_seq = 0

    def lead_chooser(prov: Province):
        pool = list(prov.agencies)
        weights = [a.weight for a in pool]
        cumulative, acc = [], 0.0
        for w in weights:
            acc += w
            cumulative.append(acc)
        return pool, cumulative

    def coordination_pool(prov: Province) -> list[AgencyRow]:
        return prov.departments + prov.districts

    # Index maintenance row by row is most of the database's work at 2,000,000 updates:
    # the secondary indexes of the task tables are dropped here and built again at the end,
    # from their own definitions (so they are exactly what the migrations made).
    started = time.perf_counter()
    fast_load = is_superuser()
    dropped = drop_secondary_indexes([Task, Task.coordinating_agencies.through, StatusUpdate,
                                      DeadlineExtension])  # fmt: skip
    phases.done("indexes", started, f"{len(dropped)} secondary indexes set aside for loading")

    write_started = time.perf_counter()
    for prov, budget in zip(tree, budgets, strict=True):
        plan = plans[prov.index]
        plan_areas = areas[prov.index]
        pool, cumulative = lead_chooser(prov)
        coord_pool = coordination_pool(prov)
        split_targets = prov.districts if len(prov.districts) >= 2 else prov.agencies[1:]
        children_total = round(budget * children_fraction) if split_targets else 0
        group = max(1, len(split_targets))
        parent_count = math.ceil(children_total / group) if children_total else 0
        if parent_count + children_total > budget:
            parent_count, children_total = 0, 0
        standalone = budget - parent_count - children_total

        def make_task(lead: AgencyRow, area, code: str, title: str):
            assigned, original_due = due_dates(rng, clock)
            kpi_target = kpi_unit = None
            if rng.random() < 0.3:
                kpi_unit, low, high = rng.choice(KPIS)
                kpi_target = float(rng.randint(low, high))
            return {
                "lead": lead,
                "area": area,
                "code": code,
                "title": title,
                "parent": None,
                "assigned": assigned,
                "original_due": original_due,
                "kpi_target": kpi_target,
                "kpi_unit": kpi_unit or "",
            }

        def title_for(area_code: str, lead: AgencyRow | None) -> str:
            base = rng.choice(TITLES[area_code])
            where = rng.random()
            if where < 0.5 and lead is not None:
                return f"{base} tại {lead.short}"
            if where < 0.8:
                return f"{base} năm {clock.period_start.year}"
            return f"{base} (đợt {rng.randint(1, 4)})"

        # 5a. Parents: led by Sở TT&TT or another department, split per district.
        started = time.perf_counter()
        parent_specs = []
        for _ in range(parent_count):
            code_seq += 1
            area = rng.choice(plan_areas)
            lead = prov.monitor_agency if rng.random() < 0.5 else rng.choice(prov.departments)
            parent_specs.append(
                make_task(lead, area, f"{area.code}-{code_seq:06d}", title_for(area.code, None))
            )
        parent_rows = _write_tasks(
            parent_specs, plan, rng, clock, 0, 0, officer_of, monitor_of[prov.index], user_pk,
            demo, totals, is_parent=True, fast_load=fast_load,
        )  # fmt: skip
        if parent_specs:
            phases.done("parent tasks", started, f"{len(parent_rows)} in {prov.name}")

        # 5b. Children and standalone tasks, in batches.
        specs = []
        remaining_children = children_total
        for parent_row, parent_spec in zip(parent_rows, parent_specs, strict=True):
            for target in split_targets[: min(group, remaining_children)]:
                specs.append(
                    {
                        **parent_spec,
                        "lead": target,
                        "code": f"{parent_spec['code']}.{target.code}",
                        "parent": parent_row,
                        "coordinating": [parent_spec["lead"]],
                        "kpi_target": None,
                    }
                )
            remaining_children -= min(group, remaining_children)
        for _ in range(standalone):
            code_seq += 1
            area = rng.choice(plan_areas)
            lead = pool[_bisect(cumulative, rng.random() * cumulative[-1])]
            spec = make_task(lead, area, f"{area.code}-{code_seq:06d}", title_for(area.code, lead))
            n = rng.choice([0, 0, 1, 1, 2, 3])
            spec["coordinating"] = [a for a in rng.sample(coord_pool, min(n, len(coord_pool)))
                                    if a is not lead]  # fmt: skip
            specs.append(spec)
        for offset in range(0, len(specs), BATCH_SIZE):
            started = time.perf_counter()
            batch = specs[offset : offset + BATCH_SIZE]
            before = dict(totals)
            _write_tasks(
                batch, plan, rng, clock, updates_per_task, updated_fraction, officer_of,
                monitor_of[prov.index], user_pk, demo, totals, is_parent=False,
                fast_load=fast_load,
            )  # fmt: skip
            phases.done(
                "tasks",
                started,
                f"{totals['tasks']}/{tasks} tasks (+{totals['tasks'] - before['tasks']}), "
                f"{totals['updates']} updates, {totals['coordinations']} coordinations, "
                f"{totals['extensions']} extensions",
            )

    started = time.perf_counter()
    create_indexes(dropped)
    phases.done("indexes", started, f"{len(dropped)} secondary indexes built again")
    if fast_load:
        started = time.perf_counter()
        loaded = [Task, Task.coordinating_agencies.through, StatusUpdate, DeadlineExtension]
        checked = check_foreign_keys(loaded)
        phases.done("foreign keys", started, f"{checked} foreign keys checked over every row")

    # 6. Parents roll up their children, as task_rollup does (mean progress; completed
    #    when every child still counted is, on the latest date).
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {Task._meta.db_table} AS p SET
                progress = c.progress,
                state = c.state,
                completed_on = c.completed_on,
                version = p.version + c.updates
            FROM (
                SELECT parent_id,
                       round(avg(progress))::int AS progress,
                       CASE WHEN bool_and(state = 'completed') THEN 'completed'
                            WHEN bool_or(state <> 'not_started' OR progress > 0)
                                THEN 'in_progress'
                            ELSE 'not_started' END AS state,
                       CASE WHEN bool_and(state = 'completed') THEN max(completed_on) END
                           AS completed_on,
                       sum(version - 1)::int AS updates
                FROM {Task._meta.db_table}
                WHERE parent_id IS NOT NULL AND state <> 'withdrawn'
                GROUP BY parent_id
            ) AS c
            WHERE p.id = c.parent_id
            """
        )
        rolled = cursor.rowcount
    phases.done("roll-up", started, f"{rolled} parent tasks")

    counts.update(
        {
            "tasks": totals["tasks"],
            "parent_tasks": totals["parents"],
            "child_tasks": totals["children"],
            "coordinations": totals["coordinations"],
            "status_updates": totals["updates"],
            "extensions": totals["extensions"],
        }
    )
    write_seconds = time.perf_counter() - write_started
    if write_seconds > 0:
        counts["rows_per_second"] = int(
            (totals["tasks"] + totals["updates"] + totals["coordinations"]) / write_seconds
        )
    return {"counts": counts, "users": demo}


def _bisect(cumulative: list[float], value: float) -> int:
    import bisect

    return min(bisect.bisect_right(cumulative, value), len(cumulative) - 1)


def is_superuser() -> bool:
    """Only a superuser may skip the per-row foreign-key triggers while loading."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
    return bool(row and row[0])


def check_foreign_keys(models) -> int:
    """Fail when a row of `models` points to a row that does not exist: one set-based
    query per foreign key, instead of a trigger per inserted row. Returns the keys checked."""
    from django.db import connection

    quote = connection.ops.quote_name
    checked = 0
    with connection.cursor() as cursor:
        for model in models:
            for field in model._meta.concrete_fields:
                if not field.is_relation or field.related_model is None:
                    continue
                target = field.related_model._meta
                target_column = field.target_field.column
                cursor.execute(
                    f"SELECT count(*) FROM {quote(model._meta.db_table)} x "
                    f"WHERE x.{quote(field.column)} IS NOT NULL AND NOT EXISTS ("
                    f"SELECT 1 FROM {quote(target.db_table)} r "
                    f"WHERE r.{quote(target_column)} = x.{quote(field.column)})"
                )
                dangling = cursor.fetchone()[0]
                if dangling:
                    raise RuntimeError(
                        f"{dangling} rows of {model._meta.label}.{field.name} point nowhere"
                    )
                checked += 1
    return checked


def drop_secondary_indexes(models) -> list[str]:
    """Drop the indexes of `models`' tables that back no constraint (primary keys and
    unique constraints stay, so they still check the data); return their definitions."""
    from django.db import connection

    definitions = []
    with connection.cursor() as cursor:
        for model in models:
            cursor.execute(
                """
                SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                FROM pg_index i
                WHERE i.indrelid = %s::regclass
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
                """,
                [model._meta.db_table],
            )
            for name, definition in cursor.fetchall():
                cursor.execute(f"DROP INDEX {name}")
                definitions.append(definition)
    return definitions


def create_indexes(definitions: list[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET maintenance_work_mem = '256MB'")
        for definition in definitions:
            cursor.execute(definition)
        cursor.execute("RESET maintenance_work_mem")


def copy_rows(model, rows: list[dict]) -> None:
    """Write plain rows (dicts keyed by attname) into `model`'s table with COPY, in the
    current transaction. Every concrete column but the primary key is written: a key the
    rows lack takes the field's default, and a field without one stops the generator (a
    new NOT NULL column must be generated, not guessed)."""
    from django.db import connection

    if not rows:
        return
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    defaults = {}
    for f in fields:
        if f.attname not in rows[0]:
            if not (f.has_default() or f.null):
                raise RuntimeError(f"{model.__name__}.{f.name} needs a generated value")
            defaults[f.attname] = f.get_default()
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    names = [f.attname for f in fields]
    table = connection.ops.quote_name(model._meta.db_table)
    connection.ensure_connection()
    with (
        connection.connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row([row[n] if n in row else defaults[n] for n in names])


def _write_tasks(
    specs: list[dict],
    plan,
    rng: random.Random,
    clock: Clock,
    updates_per_task: int,
    updated_fraction: float,
    officer_of: dict[int, int],
    monitor: int,
    user_pk: dict[str, int],
    demo: dict,
    totals: dict[str, int],
    *,
    is_parent: bool,
    fast_load: bool = False,
) -> list:
    """Write one batch of tasks with their histories in one transaction; returns the rows."""
    from django.db import connection, transaction

    from tasks_app.models import DeadlineExtension, StatusUpdate, Task
    from tasks_app.search import fold

    Coordination = Task.coordinating_agencies.through
    decider = user_pk[demo["leader"]] if demo["leader"] else monitor
    objects, histories = [], []
    for spec in specs:
        lead = spec["lead"]
        officer = officer_of.get(lead.pk)
        n_updates = 0
        if not is_parent and rng.random() < updated_fraction:
            n_updates = updates_per_task
        history = make_history(
            rng,
            clock,
            assigned=spec["assigned"],
            original_due=spec["original_due"],
            updates=n_updates,
            author=officer,
            agency=lead.pk,
            monitor=monitor,
            kpi_target=spec["kpi_target"],
            requester=officer,
            decider=rng.choice([monitor, decider]),
        )
        if is_parent:  # a parent's deadline moves with its children, not by itself
            history.extensions, history.due = [], spec["original_due"]
        histories.append(history)
        objects.append(
            Task(
                plan_id=plan.pk,
                priority_area_id=spec["area"].pk,
                code=spec["code"],
                title=spec["title"],
                expected_output="Báo cáo kết quả thực hiện; sản phẩm theo kế hoạch.",
                lead_agency_id=lead.pk,
                parent_id=spec["parent"].pk if spec["parent"] is not None else None,
                assigned_on=spec["assigned"],
                original_due=spec["original_due"],
                due=history.due,
                due_moved=any(e["status"] == "approved" for e in history.extensions),
                state=history.state,
                progress=history.progress,
                completed_on=history.completed_on,
                result=history.result,
                kpi_target=spec["kpi_target"],
                kpi_unit=spec["kpi_unit"],
                kpi_actual=history.kpi_actual,
                dti_index_id=spec["area"].dti_index_id,
                version=history.version,
                # as Task.save() does
                search_text=fold(f"{spec['code']} {spec['title']}"),
            )
        )
    with transaction.atomic():
        if fast_load:
            # Foreign keys are checked once for the whole load (check_foreign_keys), not by a
            # trigger per row at every commit: that halves the database's work.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
        rows = Task.objects.bulk_create(objects, batch_size=BATCH_SIZE)
        coordinations, updates, extensions = [], [], []
        for row, spec, history in zip(rows, specs, histories, strict=True):
            for agency in spec.get("coordinating", []):
                coordinations.append({"task_id": row.pk, "agency_id": agency.pk})
            for fields in history.updates:
                fields["task_id"] = row.pk
                updates.append(fields)
            for fields in history.extensions:
                extensions.append(
                    DeadlineExtension(task_id=row.pk, agency_id=spec["lead"].pk, **fields)
                )
        # The two narrow, high-volume tables go in with COPY: bulk_create spends most of
        # its time building model instances (2,000,000 updates at the largest size).
        copy_rows(Coordination, coordinations)
        copy_rows(StatusUpdate, updates)
        DeadlineExtension.objects.bulk_create(extensions, batch_size=BATCH_SIZE)
    totals["tasks"] += len(rows)
    totals["parents" if is_parent else "children"] += (
        len(rows) if is_parent else sum(1 for s in specs if s["parent"] is not None)
    )
    totals["coordinations"] += len(coordinations)
    totals["updates"] += len(updates)
    totals["extensions"] += len(extensions)
    return rows


# --- Verification ------------------------------------------------------------------------------


def verify(*, database_url: str = DEFAULT_DATABASE_URL, sample: int = 200) -> dict:
    """Check the generated data against the rules the models and services keep, and return
    the report categories at today's date (to see that every category occurs).

    - Agency.path and the search_text columns equal what save() computes;
    - each task row mirrors its latest status update (state, progress, completion);
    - no update is recorded in the future, no completion is reported before it happened;
    - a sample of tasks and updates passes full_clean() (fields and constraints).
    """
    setup_django(database_url)
    from django.db.models import Count, F, OuterRef, Q, Subquery
    from django.utils import timezone

    from tasks_app.models import Agency, StatusUpdate, Task
    from tasks_app.search import fold

    problems: list[str] = []
    by_pk = {a.pk: a for a in Agency.objects.all()}
    for a in by_pk.values():
        expected = f"{by_pk[a.parent_id].path if a.parent_id else '/'}{a.pk}/"
        if a.path != expected:
            problems.append(f"agency {a.code}: path {a.path} != {expected}")
        if a.search_text != fold(" ".join([a.code, a.name, a.short_name])):
            problems.append(f"agency {a.code}: search_text")
    for t in Task.objects.order_by("?")[:sample]:
        if t.search_text != fold(f"{t.code} {t.title}"):
            problems.append(f"task {t.code}: search_text")
        try:
            t.full_clean(validate_unique=False)
        except Exception as exc:
            problems.append(f"task {t.code}: {exc}")
    for u in StatusUpdate.objects.order_by("?")[:sample]:
        try:
            u.full_clean()
        except Exception as exc:
            problems.append(f"update {u.pk}: {exc}")
    latest = StatusUpdate.objects.filter(task=OuterRef("pk")).order_by("-recorded_at", "-pk")
    mismatched = (
        Task.objects.filter(updates__isnull=False)
        .distinct()
        .annotate(
            l_state=Subquery(latest.values("state")[:1]),
            l_progress=Subquery(latest.values("progress")[:1]),
            l_completed=Subquery(latest.values("completed_on")[:1]),
        )
        .exclude(
            state=F("l_state"), progress=F("l_progress"), completed_on__isnull=True,
            l_completed__isnull=True,
        )
        .exclude(state=F("l_state"), progress=F("l_progress"), completed_on=F("l_completed"))
        .count()
    )  # fmt: skip
    if mismatched:
        problems.append(f"{mismatched} tasks do not mirror their latest update")
    future = StatusUpdate.objects.filter(recorded_at__gt=timezone.now()).count()
    if future:
        problems.append(f"{future} updates recorded in the future")
    early = StatusUpdate.objects.filter(
        Q(completed_on__isnull=False),
        Q(completed_on__gt=F("recorded_at__date")),
    ).count()
    if early:
        problems.append(f"{early} completions reported before they happened")
    categories = dict(
        Task.objects.leaves()
        .with_category(timezone.localdate())
        .values_list("category")
        .annotate(n=Count("pk"))
        .values_list("category", "n")
    )
    states = dict(
        Task.objects.values_list("state").annotate(n=Count("pk")).values_list("state", "n")
    )
    return {"problems": problems, "categories_today": categories, "states": states}


# --- Command line ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--agencies", type=int, default=260)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--updates-per-task", type=int, default=3)
    parser.add_argument(
        "--updated-fraction", type=float, default=0.1, help="share of tasks with updates"
    )
    parser.add_argument(
        "--children-fraction",
        type=float,
        default=0.05,
        help="share of tasks that are children of a plan item split per district",
    )
    parser.add_argument("--provinces", type=int, default=1, help="national scale: N provinces")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--today",
        type=datetime.date.fromisoformat,
        default=None,
        help="the date the data is generated around (default: today in Asia/Ho_Chi_Minh)",
    )
    parser.add_argument("--password", default=DEFAULT_PASSWORD, help="password of every user")
    parser.add_argument(
        "--verify",
        action="store_true",
        help="afterwards, check the data against the models' rules and print the categories",
    )
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the database when it was generated with the same parameters",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.updated_fraction <= 1 or not 0 <= args.children_fraction < 1:
        parser.error("fractions are between 0 and 1")
    generate(
        database_url=args.database_url,
        agencies=args.agencies,
        tasks=args.tasks,
        updates_per_task=args.updates_per_task,
        updated_fraction=args.updated_fraction,
        children_fraction=args.children_fraction,
        provinces=args.provinces,
        seed=args.seed,
        today=args.today,
        password=args.password,
        reset=args.reset,
        reuse=args.reuse,
    )
    if args.verify:
        report = verify(database_url=args.database_url)
        log("verify", f"states: {report['states']}")
        log("verify", f"report categories today (leaf tasks): {report['categories_today']}")
        for problem in report["problems"][:50]:
            log("verify", f"PROBLEM {problem}")
        if report["problems"]:
            return 1
        log("verify", "no problem found")
    return 0


if __name__ == "__main__":
    sys.exit(main())
