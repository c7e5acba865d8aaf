"""Demo accounts and a year of demo activity on the 2022 plan (`load_plan FILE --demo`).

Everything here is invented for demonstrations and tests; none of it is a fact about Nam
Định. The activity is recorded through the services, with historical timestamps (09:00
Asia/Ho_Chi_Minh unless said otherwise), so reports at past dates show it as it was known
then. It is deterministic: a fixed timeline, no randomness.

Guarantees of `demo_load`:

- the demo accounts exist (password `demo-2022`), with their memberships; an account
  that already exists is left as it is (its password is not reset);
- the activity is written once: when the plan already has status updates, extension
  requests or per-agency child tasks, it is skipped, so running `--demo` again creates
  nothing more, and a plan in real use is never touched;
- every report category occurs among leaf tasks at 2022-06-30 and at 2022-12-31.
"""

import datetime
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from tasks_app.choices import ExtensionStatus, Role, TaskState
from tasks_app.demo_current import demo_current_load
from tasks_app.demo_reform import demo_reform_apply
from tasks_app.models import (
    Agency,
    DeadlineExtension,
    Membership,
    Plan,
    StatusUpdate,
    Task,
)
from tasks_app.querysets import local_tz
from tasks_app.services import (
    contribution_add,
    extension_approve,
    extension_reject,
    extension_request,
    status_update_record,
    task_adjust_due,
    task_confirm_completion,
    task_split,
    task_update_fields,
    task_withdraw,
)

DEMO_PASSWORD = "demo-2022"
# The dates at which the demo is built to show every report category.
SHOWCASE_DATES = (datetime.date(2022, 6, 30), datetime.date(2022, 12, 31))


class DemoError(Exception):
    """The demo cannot be loaded on this plan (it needs the 2022 plan's codes)."""


@dataclass(frozen=True)
class DemoAccount:
    username: str
    # Vietnamese names: first_name holds the given name (tên), last_name the family and
    # middle names (họ và tên đệm); a Vietnamese display puts last_name first.
    first_name: str
    last_name: str
    agency: str | None = None
    role: str | None = None
    superuser: bool = False

    @property
    def email(self) -> str:
        return f"{self.username}@example.vn"


DEMO_ACCOUNTS = (
    DemoAccount("admin", "Hùng", "Đỗ Văn", superuser=True),
    DemoAccount("lanhdao", "Bình", "Trần Văn", "UBND_TINH", Role.LEADER),
    DemoAccount("sotttt", "Hương", "Nguyễn Thị", "STTTT", Role.MONITOR),
    DemoAccount("haihau", "Thành", "Vũ Văn", "UBND_HAIHAU", Role.MANAGER),
    DemoAccount("giaothuy", "Lan", "Phạm Thị", "UBND_GIAOTHUY", Role.MANAGER),
    DemoAccount("haitrung", "Mai", "Trần Thị", "HH_HAITRUNG", Role.MANAGER),
    DemoAccount("syt", "Minh", "Lê Quang", "SYT", Role.MANAGER),
    # Today's agencies, since the 2025 reform (the current-year plan: demo_current.py).
    DemoAccount("skhcn", "Quân", "Hoàng Minh", "NB_SKHCN", Role.MONITOR),
    DemoAccount("xahaihau", "Hà", "Đặng Thu", "NB_XA_HAIHAU", Role.MANAGER),
)

# The ten district-level People's Committees of 2022: the two plan items that every
# district carries out are split into one child task for each.
DISTRICTS = (
    "UBND_TPND",
    "UBND_MYLOC",
    "UBND_VUBAN",
    "UBND_YYEN",
    "UBND_NGHIAHUNG",
    "UBND_NAMTRUC",
    "UBND_TRUCNINH",
    "UBND_XUANTRUONG",
    "UBND_GIAOTHUY",
    "UBND_HAIHAU",
)
SPLIT_TASKS = ("CDS22-26", "CDS22-41")


# --- The timeline -----------------------------------------------------------------------------

REPORT = "report"
CONTRIBUTE = "contribute"
REQUEST = "request_extension"
APPROVE = "approve_extension"
REJECT = "reject_extension"
CONFIRM = "confirm"
WITHDRAW = "withdraw"
ADJUST_DUE = "adjust_due"
REASSIGN = "reassign"


@dataclass(frozen=True, kw_only=True)
class DemoEvent:
    """One thing that happened to a task: who did it, when, and what they wrote."""

    at: datetime.datetime
    task: str
    user: str
    action: str
    state: str = ""
    progress: int = 0
    text: str = ""  # result, reason or decision note
    difficulties: str = ""
    proposals: str = ""
    kpi: int | None = None
    completed_on: datetime.date | None = None
    agency: str = ""  # the contributing agency
    proposed_due: datetime.date | None = None


def _at(day: str, hour: int = 9) -> datetime.datetime:
    return datetime.datetime.combine(
        datetime.date.fromisoformat(day), datetime.time(hour), tzinfo=local_tz()
    )


def _progress(
    day: str,
    task: str,
    user: str,
    progress: int,
    text: str,
    *,
    kpi: int | None = None,
    difficulties: str = "",
    proposals: str = "",
) -> DemoEvent:
    """A progress report by the lead agency."""
    return DemoEvent(
        at=_at(day),
        task=task,
        user=user,
        action=REPORT,
        state=TaskState.IN_PROGRESS,
        progress=progress,
        text=text,
        kpi=kpi,
        difficulties=difficulties,
        proposals=proposals,
    )


def _done(
    day: str,
    task: str,
    user: str,
    text: str,
    *,
    on: str | None = None,
    kpi: int | None = None,
    awaiting: bool = False,
) -> DemoEvent:
    """A completion reported on `day`, done on `on` (default: the same day)."""
    return DemoEvent(
        at=_at(day),
        task=task,
        user=user,
        action=REPORT,
        state=TaskState.AWAITING_CONFIRMATION if awaiting else TaskState.COMPLETED,
        progress=100,
        text=text,
        kpi=kpi,
        completed_on=datetime.date.fromisoformat(on or day),
    )


def _event(
    day: str, task: str, user: str, action: str, text: str = "", *, hour: int = 9, **fields
) -> DemoEvent:
    """Any other event: a contribution, an extension request or decision, a withdrawal."""
    return DemoEvent(at=_at(day, hour), task=task, user=user, action=action, text=text, **fields)


def demo_timeline() -> list[DemoEvent]:
    """The demo activity of 2022, in the order it happened."""
    hh26, hh41 = "CDS22-26.UBND_HAIHAU", "CDS22-41.UBND_HAIHAU"
    # A table, one event per call: kept as written rather than one argument per line.
    # fmt: off
    events = [
        # --- CQDT: chính quyền điện tử ---
        _progress("2022-01-20", "CDS22-01", "sotttt", 50,
                  "Đã xây dựng dự thảo Kế hoạch chuyển đổi số năm 2022, gửi xin ý kiến các sở, "
                  "ban, ngành và UBND các huyện, thành phố."),
        _done("2022-02-25", "CDS22-01", "sotttt",
              "UBND tỉnh đã ban hành Kế hoạch chuyển đổi số tỉnh Nam Định năm 2022; Sở TT&TT "
              "đã sao gửi các cơ quan, đơn vị để triển khai."),
        _progress("2022-03-15", "CDS22-02", "sotttt", 30,
                  "Đã hoàn thành dự thảo Quy chế quản lý, vận hành, khai thác các hệ thống thông "
                  "tin dùng chung; đang lấy ý kiến các sở, ngành."),
        _progress("2022-05-30", "CDS22-02", "sotttt", 60,
                  "Đã tổng hợp ý kiến góp ý, gửi Sở Tư pháp thẩm định dự thảo Quy chế.",
                  difficulties="Một số sở, ngành gửi ý kiến góp ý chậm so với thời hạn đề nghị."),
        _progress("2022-07-15", "CDS22-02", "sotttt", 85,
                  "Đã tiếp thu ý kiến thẩm định của Sở Tư pháp, hoàn thiện hồ sơ trình UBND tỉnh."),
        _done("2022-09-20", "CDS22-02", "sotttt",
              "UBND tỉnh đã ban hành Quyết định ban hành Quy chế quản lý, vận hành, khai thác các "
              "hệ thống thông tin dùng chung của tỉnh.", on="2022-09-16"),
        _progress("2022-04-15", "CDS22-03", "sotttt", 20,
                  "Đã phê duyệt chủ trương đầu tư và kế hoạch lựa chọn nhà thầu nâng cấp Trung tâm "
                  "tích hợp dữ liệu."),
        _progress("2022-08-10", "CDS22-03", "sotttt", 55,
                  "Nhà thầu đã lắp đặt máy chủ, thiết bị lưu trữ; đang cấu hình hệ thống ảo hóa."),
        _progress("2022-11-25", "CDS22-03", "sotttt", 85,
                  "Đã chuyển 18/24 hệ thống thông tin sang hạ tầng mới, đang vận hành thử.",
                  difficulties="Việc chuyển đổi phải làm ngoài giờ hành chính để không gián đoạn "
                  "dịch vụ công trực tuyến."),
        _progress("2022-05-10", "CDS22-04", "sotttt", 20,
                  "Đã xây dựng danh mục dữ liệu mở của tỉnh, gửi các sở, ngành rà soát.", kpi=2),
        _progress("2022-09-15", "CDS22-04", "sotttt", 60,
                  "Nền tảng cơ sở dữ liệu dùng chung đã vận hành thử; đã công bố 12 bộ dữ liệu mở.",
                  kpi=12),
        _progress("2022-11-20", "CDS22-04", "sotttt", 90,
                  "Đã công bố 18 bộ dữ liệu mở; 2 bộ dữ liệu còn chờ các sở chuẩn hóa.", kpi=18,
                  difficulties="Dữ liệu của một số sở, ngành chưa được chuẩn hóa nên chưa đủ điều "
                  "kiện công bố.",
                  proposals="Đề nghị UBND tỉnh chỉ đạo các sở, ngành hoàn thành chuẩn hóa dữ liệu "
                  "trong quý I/2023."),
        # VP UBND tỉnh has no demo account: Sở TT&TT enters its reports.
        _progress("2022-03-31", "CDS22-05", "sotttt", 30,
                  "Theo báo cáo của Văn phòng UBND tỉnh: đã rà soát, công bố danh mục thủ tục hành "
                  "chính đủ điều kiện cung cấp trực tuyến toàn trình.", kpi=35),
        _progress("2022-06-30", "CDS22-05", "sotttt", 55,
                  "52% thủ tục hành chính đủ điều kiện đã được cung cấp trực tuyến toàn trình và "
                  "tích hợp lên Cổng Dịch vụ công quốc gia.", kpi=52),
        _progress("2022-09-30", "CDS22-05", "sotttt", 75,
                  "63% thủ tục hành chính đủ điều kiện đã được cung cấp trực tuyến toàn trình.",
                  kpi=63),
        _done("2022-12-26", "CDS22-05", "sotttt",
              "Đã cung cấp trực tuyến toàn trình 72% thủ tục hành chính đủ điều kiện, vượt chỉ "
              "tiêu kế hoạch.", kpi=72),
        _progress("2022-03-10", "CDS22-06", "sotttt", 40,
                  "Đã tổng hợp nhu cầu, đề nghị Ban Cơ yếu Chính phủ cấp chứng thư số cho lãnh "
                  "đạo, công chức cấp xã."),
        _progress("2022-05-15", "CDS22-06", "sotttt", 80,
                  "Đã cấp 1.850 chứng thư số; hướng dẫn ký số trên Hệ thống quản lý văn bản và "
                  "điều hành.", kpi=85),
        _done("2022-06-29", "CDS22-06", "sotttt",
              "100% UBND cấp xã đã được cấp chữ ký số chuyên dùng và ký số văn bản điện tử.",
              on="2022-06-28", kpi=100),
        _progress("2022-03-31", "CDS22-07", "haihau", 40,
                  "45% hồ sơ công việc tại cấp xã được xử lý trên môi trường mạng.", kpi=45,
                  difficulties="Một số công chức cấp xã còn hạn chế kỹ năng sử dụng phần mềm; "
                  "đường truyền tại một số xã không ổn định."),
        _event("2022-05-12", "CDS22-07", "sotttt", CONTRIBUTE,
               "Sở TT&TT đã cấp bổ sung 68 tài khoản trên Hệ thống quản lý văn bản và điều hành "
               "cho công chức các xã, thị trấn huyện Hải Hậu và cử cán bộ hỗ trợ kỹ thuật tại chỗ.",
               agency="STTTT"),
        _progress("2022-06-30", "CDS22-07", "haihau", 60,
                  "62% hồ sơ công việc tại cấp xã được xử lý trên môi trường mạng.", kpi=62),
        _progress("2022-09-30", "CDS22-07", "haihau", 75,
                  "74% hồ sơ công việc tại cấp xã được xử lý trên môi trường mạng.", kpi=74),
        _progress("2022-12-20", "CDS22-07", "haihau", 90,
                  "78% hồ sơ công việc tại cấp xã được xử lý trên môi trường mạng; 24/34 xã, thị "
                  "trấn đạt trên 80%.", kpi=78,
                  proposals="Đề nghị Sở TT&TT tiếp tục hỗ trợ nâng cấp đường truyền cho các xã "
                  "ven biển."),
        _progress("2022-04-15", "CDS22-08", "sotttt", 30,
                  "Công an tỉnh đã phối hợp với Văn phòng UBND tỉnh khảo sát, xây dựng phương án "
                  "kết nối."),
        _progress("2022-08-20", "CDS22-08", "sotttt", 70,
                  "Đã kết nối thử nghiệm, xác thực thông tin công dân đối với 25 thủ tục hành "
                  "chính.",
                  difficulties="Dữ liệu một số thủ tục hành chính chưa được chuẩn hóa; phần mềm "
                  "một cửa điện tử cần nâng cấp để tích hợp."),
        # The regular task: reports all year, never due.
        _progress("2022-03-31", "CDS22-09", "sotttt", 25,
                  "Đã phê duyệt hồ sơ đề xuất cấp độ cho 6/14 hệ thống thông tin; duy trì giám sát "
                  "an toàn thông tin 24/7."),
        _progress("2022-07-15", "CDS22-09", "sotttt", 50,
                  "Đã phê duyệt hồ sơ cấp độ cho 10/14 hệ thống; tổ chức diễn tập ứng cứu sự cố an "
                  "toàn thông tin cấp tỉnh."),
        _progress("2022-11-30", "CDS22-09", "sotttt", 70,
                  "Đã phê duyệt 12/14 hồ sơ cấp độ; trong năm đã phát hiện, xử lý 37 cảnh báo tấn "
                  "công mạng."),
        # A rejected extension: the district finishes late.
        _progress("2022-03-20", "CDS22-10", "giaothuy", 40,
                  "Đã thống nhất giao diện, cấu trúc chuyên mục trang thông tin điện tử huyện trên "
                  "nền tảng dùng chung của tỉnh."),
        _progress("2022-06-10", "CDS22-10", "giaothuy", 70,
                  "Đã cập nhật tin, bài cho các chuyên mục chính; đang chuyển dữ liệu văn bản cũ."),
        _event("2022-06-24", "CDS22-10", "giaothuy", REQUEST,
               "Khối lượng văn bản, tin bài cũ cần chuyển đổi lớn hơn dự kiến; đề nghị gia hạn "
               "đến ngày 31/08/2022 để hoàn thành trước khi vận hành chính thức.",
               proposed_due=datetime.date(2022, 8, 31)),
        _event("2022-06-28", "CDS22-10", "sotttt", REJECT,
               "Nền tảng dùng chung đã sẵn sàng; đề nghị UBND huyện đưa trang vào vận hành đúng "
               "hạn, việc chuyển dữ liệu cũ thực hiện sau khi vận hành.", hour=15),
        _done("2022-07-15", "CDS22-10", "giaothuy",
              "Trang thông tin điện tử huyện Giao Thủy đã chính thức vận hành trên nền tảng dùng "
              "chung của tỉnh.", on="2022-07-14"),
        # --- DTTM: đô thị thông minh ---
        _progress("2022-03-15", "CDS22-11", "sotttt", 25,
                  "Đã tích hợp phân hệ giám sát dịch vụ công trực tuyến và phân hệ phản ánh hiện "
                  "trường lên IOC.", kpi=2),
        _progress("2022-07-10", "CDS22-11", "sotttt", 60,
                  "Đã tích hợp thêm các phân hệ giám sát giao thông, môi trường và y tế.", kpi=5),
        _done("2022-12-12", "CDS22-11", "sotttt",
              "Đã tích hợp, vận hành 8 phân hệ giám sát trên IOC: dịch vụ công, phản ánh hiện "
              "trường, giao thông, môi trường, y tế, giáo dục, an toàn thông tin, kinh tế - xã "
              "hội.",
              kpi=8),
        _event("2022-05-20", "CDS22-12", "sotttt", WITHDRAW,
               "Nội dung lắp đặt camera giám sát giao thông, an ninh trật tự đã được đưa vào dự án "
               "do Công an tỉnh chủ trì theo Đề án 06; dừng thực hiện để tránh trùng lặp đầu tư."),
        # The approved extension: requested mid-June, approved before the due date.
        _progress("2022-03-20", "CDS22-13", "sotttt", 30,
                  "Đã thuê đơn vị tư vấn, khảo sát hiện trạng ứng dụng công nghệ thông tin của các "
                  "sở, ngành, địa phương."),
        _progress("2022-05-25", "CDS22-13", "sotttt", 60,
                  "Đã hoàn thành dự thảo Kiến trúc Chính quyền điện tử tỉnh, phiên bản 2.0."),
        _event("2022-06-15", "CDS22-13", "sotttt", REQUEST,
               "Bộ Thông tin và Truyền thông đang hoàn thiện khung kiến trúc quốc gia phiên bản "
               "mới; cần chờ ban hành để cập nhật, bảo đảm Kiến trúc của tỉnh phù hợp. Đề nghị gia "
               "hạn đến ngày 30/09/2022.",
               proposed_due=datetime.date(2022, 9, 30)),
        _event("2022-06-20", "CDS22-13", "lanhdao", APPROVE,
               "Đồng ý gia hạn đến ngày 30/09/2022.", hour=16),
        _progress("2022-08-15", "CDS22-13", "sotttt", 85,
                  "Đã cập nhật dự thảo theo khung kiến trúc quốc gia mới, gửi Bộ TT&TT xin ý "
                  "kiến."),
        _done("2022-09-20", "CDS22-13", "sotttt",
              "UBND tỉnh đã ban hành Quyết định phê duyệt Kiến trúc Chính quyền điện tử tỉnh Nam "
              "Định, phiên bản 2.0.", on="2022-09-19"),
        # --- YTE ---
        _progress("2022-03-31", "CDS22-14", "syt", 20,
                  "Đã triển khai lập hồ sơ sức khỏe điện tử tại các trạm y tế xã; 15% dân số đã có "
                  "hồ sơ.", kpi=15),
        _progress("2022-06-30", "CDS22-14", "syt", 40,
                  "32% dân số đã có hồ sơ sức khỏe điện tử.", kpi=32),
        _event("2022-08-05", "CDS22-14", "sotttt", CONTRIBUTE,
               "Sở TT&TT đã hướng dẫn các cơ sở y tế bảo đảm an toàn thông tin khi kết nối phần "
               "mềm hồ sơ sức khỏe điện tử với Nền tảng tích hợp, chia sẻ dữ liệu của tỉnh.",
               agency="STTTT"),
        _progress("2022-09-30", "CDS22-14", "syt", 60,
                  "48% dân số đã có hồ sơ sức khỏe điện tử.", kpi=48),
        _progress("2022-12-15", "CDS22-14", "syt", 80,
                  "57% dân số đã có hồ sơ sức khỏe điện tử.", kpi=57,
                  difficulties="Người dân chưa chủ động cập nhật thông tin; một số trạm y tế thiếu "
                  "máy tính và đường truyền.",
                  proposals="Đề nghị bố trí kinh phí trang bị máy tính cho trạm y tế xã năm 2023."),
        _progress("2022-04-20", "CDS22-15", "syt", 40,
                  "4/10 bệnh viện tuyến tỉnh đã triển khai thanh toán viện phí qua mã QR, thẻ ngân "
                  "hàng.", kpi=40),
        _progress("2022-07-25", "CDS22-15", "syt", 80,
                  "8/10 bệnh viện tuyến tỉnh đã thanh toán viện phí không dùng tiền mặt.", kpi=80),
        _done("2022-09-28", "CDS22-15", "syt",
              "100% bệnh viện tuyến tỉnh đã chấp nhận thanh toán viện phí không dùng tiền mặt.",
              kpi=100),
        # Completion awaiting confirmation, confirmed by the monitoring agency in July.
        _progress("2022-03-15", "CDS22-16", "syt", 30,
                  "Đã lựa chọn nền tảng tư vấn khám, chữa bệnh từ xa do Bộ Y tế giới thiệu; tập "
                  "huấn cho cán bộ đầu mối các bệnh viện."),
        _progress("2022-05-20", "CDS22-16", "syt", 70,
                  "Nền tảng đã vận hành tại 7 cơ sở khám, chữa bệnh.", kpi=7),
        _done("2022-06-27", "CDS22-16", "syt",
              "Nền tảng tư vấn khám, chữa bệnh từ xa đã vận hành tại 10 cơ sở khám, chữa bệnh "
              "tuyến tỉnh và tuyến huyện.", kpi=10, awaiting=True),
        _event("2022-07-05", "CDS22-16", "sotttt", CONFIRM,
               "Sở TT&TT đã kiểm tra, xác nhận kết quả."),
        _progress("2022-04-10", "CDS22-17", "haihau", 30,
                  "10/34 trạm y tế xã, thị trấn đã cài đặt, sử dụng phần mềm quản lý trạm y tế.",
                  kpi=10),
        _progress("2022-07-05", "CDS22-17", "haihau", 70,
                  "24/34 trạm y tế xã, thị trấn đã sử dụng phần mềm.", kpi=24,
                  difficulties="Một số trạm y tế chưa có máy tính đủ cấu hình để cài đặt phần "
                  "mềm."),
        _done("2022-09-15", "CDS22-17", "haihau",
              "34/34 trạm y tế xã, thị trấn đã sử dụng phần mềm quản lý trạm y tế.",
              on="2022-09-12", kpi=34),
        # --- GDDT (Sở GD&ĐT has no demo account: Sở TT&TT enters its reports) ---
        _progress("2022-03-30", "CDS22-18", "sotttt", 30,
                  "Theo báo cáo của Sở GD&ĐT: đã ban hành hướng dẫn triển khai học bạ điện tử, sổ "
                  "điểm điện tử."),
        _progress("2022-06-30", "CDS22-18", "sotttt", 70,
                  "70% trường THCS, THPT đã sử dụng sổ điểm điện tử.", kpi=70),
        _done("2022-09-01", "CDS22-18", "sotttt",
              "100% trường THCS, THPT sử dụng sổ điểm điện tử, học bạ điện tử từ năm học "
              "2022-2023.", on="2022-08-31", kpi=100),
        _progress("2022-04-15", "CDS22-19", "sotttt", 20,
                  "Đã rà soát, cập nhật dữ liệu học sinh, giáo viên trên cơ sở dữ liệu ngành."),
        _progress("2022-08-15", "CDS22-19", "sotttt", 50,
                  "Đã đồng bộ dữ liệu của 60% cơ sở giáo dục với cơ sở dữ liệu của Bộ GD&ĐT.",
                  difficulties="Dữ liệu một số trường chưa đồng bộ với cơ sở dữ liệu của Bộ; thiếu "
                  "cán bộ chuyên trách công nghệ thông tin tại trường học."),
        # --- TNMT ---
        _progress("2022-03-15", "CDS22-21", "sotttt", 10,
                  "Theo báo cáo của Sở TN&MT: đã hoàn thành cơ sở dữ liệu địa chính 3 xã.", kpi=3),
        _progress("2022-07-15", "CDS22-21", "sotttt", 40,
                  "Đã hoàn thành cơ sở dữ liệu địa chính 12 xã, phường, thị trấn.", kpi=12),
        _event("2022-10-20", "CDS22-21", "haihau", CONTRIBUTE,
               "UBND huyện Hải Hậu đã hoàn thành chỉnh lý bản đồ địa chính, kê khai đăng ký đất "
               "đai tại 6 xã và bàn giao dữ liệu cho Sở TN&MT.",
               agency="UBND_HAIHAU"),
        _progress("2022-11-15", "CDS22-21", "sotttt", 65,
                  "Đã hoàn thành cơ sở dữ liệu địa chính 20 xã, phường, thị trấn.", kpi=20),
        _progress("2022-04-20", "CDS22-23", "haihau", 15,
                  "Đã số hóa hồ sơ địa chính của 5 xã.", kpi=5),
        _progress("2022-08-20", "CDS22-23", "haihau", 45,
                  "Đã số hóa hồ sơ địa chính của 15 xã, thị trấn.", kpi=15),
        _progress("2022-11-25", "CDS22-23", "haihau", 75,
                  "Đã số hóa hồ sơ địa chính của 26/34 xã, thị trấn.", kpi=26,
                  difficulties="Khối lượng hồ sơ lớn, nhiều hồ sơ cũ hư hỏng phải phục hồi trước "
                  "khi số hóa.",
                  proposals="Đề nghị Sở TN&MT hỗ trợ kinh phí số hóa năm 2023."),
        # --- NTCDS ---
        _progress("2022-05-20", "CDS22-24", "sotttt", 30,
                  "Đã tổ chức 3 lớp tập huấn cho cán bộ các cơ quan Đảng, chính quyền cấp tỉnh.",
                  kpi=320),
        _progress("2022-08-30", "CDS22-24", "sotttt", 70,
                  "Đã tổ chức 6 lớp tập huấn, 760 lượt cán bộ tham dự.", kpi=760),
        _done("2022-10-25", "CDS22-24", "sotttt",
              "Đã tổ chức 9 lớp tập huấn với 1.120 lượt cán bộ tham dự.", kpi=1120),
        _progress("2022-06-15", "CDS22-25", "sotttt", 15,
                  "Đã tổ chức 3 lớp tập huấn kỹ năng số cho người dân tại thành phố Nam Định.",
                  kpi=3),
        _progress("2022-09-20", "CDS22-25", "sotttt", 60,
                  "Đã tổ chức 12 lớp tập huấn kỹ năng số cho người dân, doanh nghiệp.", kpi=12),
        _done("2022-12-08", "CDS22-25", "sotttt",
              "Đã tổ chức 21 lớp tập huấn kỹ năng số cho người dân, doanh nghiệp.",
              on="2022-12-06", kpi=21),
        # CDS22-26 per district (due 30/09/2022).
        _progress("2022-06-10", hh26, "haihau", 40,
                  "Đã thành lập Tổ công nghệ số cộng đồng tại 14/34 xã, thị trấn.", kpi=14),
        _progress("2022-07-20", hh26, "haihau", 80,
                  "Đã thành lập Tổ công nghệ số cộng đồng tại 28/34 xã, thị trấn.", kpi=28),
        _done("2022-08-25", hh26, "haihau",
              "34/34 xã, thị trấn đã có quyết định thành lập Tổ công nghệ số cộng đồng.", kpi=34),
        _progress("2022-06-15", "CDS22-26.UBND_GIAOTHUY", "giaothuy", 30,
                  "Đã thành lập Tổ công nghệ số cộng đồng tại 7/22 xã, thị trấn.", kpi=7),
        _progress("2022-08-30", "CDS22-26.UBND_GIAOTHUY", "giaothuy", 70,
                  "Đã thành lập tổ tại 16/22 xã, thị trấn.", kpi=16,
                  difficulties="Một số xã chưa lựa chọn được thành viên tổ có kỹ năng công nghệ."),
        _done("2022-10-12", "CDS22-26.UBND_GIAOTHUY", "giaothuy",
              "22/22 xã, thị trấn đã thành lập Tổ công nghệ số cộng đồng.", on="2022-10-10",
              kpi=22),
        _progress("2022-06-20", "CDS22-26.UBND_TPND", "sotttt", 60,
                  "Theo báo cáo của UBND thành phố: đã thành lập tổ tại 15/25 phường, xã."),
        _done("2022-09-15", "CDS22-26.UBND_TPND", "sotttt",
              "25/25 phường, xã đã thành lập Tổ công nghệ số cộng đồng.", on="2022-09-14"),
        _progress("2022-07-10", "CDS22-26.UBND_VUBAN", "sotttt", 50,
                  "Đã thành lập tổ tại một nửa số xã, thị trấn.",
                  difficulties="Một số xã chưa bố trí được thành viên có kỹ năng công nghệ."),
        _progress("2022-06-25", "CDS22-26.UBND_YYEN", "sotttt", 30,
                  "Đã ban hành kế hoạch, hướng dẫn các xã thành lập tổ."),
        _done("2022-09-28", "CDS22-26.UBND_YYEN", "sotttt",
              "Các xã, thị trấn đã thành lập Tổ công nghệ số cộng đồng.", on="2022-09-27"),
        _progress("2022-07-05", "CDS22-26.UBND_NGHIAHUNG", "sotttt", 40,
                  "Đã thành lập tổ tại các thị trấn và 8 xã."),
        _progress("2022-10-20", "CDS22-26.UBND_NGHIAHUNG", "sotttt", 80,
                  "Còn 5 xã chưa thành lập tổ.",
                  difficulties="Các xã ven biển thiếu nhân lực có kỹ năng số."),
        _progress("2022-06-28", "CDS22-26.UBND_NAMTRUC", "sotttt", 50,
                  "Đã thành lập tổ tại một nửa số xã, thị trấn."),
        _done("2022-09-26", "CDS22-26.UBND_NAMTRUC", "sotttt",
              "Các xã, thị trấn đã thành lập Tổ công nghệ số cộng đồng."),
        _progress("2022-08-15", "CDS22-26.UBND_TRUCNINH", "sotttt", 60,
                  "Đã thành lập tổ tại 12 xã, thị trấn."),
        _done("2022-11-10", "CDS22-26.UBND_TRUCNINH", "sotttt",
              "Các xã, thị trấn đã thành lập Tổ công nghệ số cộng đồng.", on="2022-11-08"),
        _progress("2022-06-30", "CDS22-26.UBND_XUANTRUONG", "sotttt", 40,
                  "Đã thành lập tổ tại 8 xã, thị trấn."),
        _done("2022-09-29", "CDS22-26.UBND_XUANTRUONG", "sotttt",
              "Các xã, thị trấn đã thành lập Tổ công nghệ số cộng đồng."),
        _progress("2022-06-10", "CDS22-27", "haihau", 50,
                  "Đã thành lập Tổ công nghệ số cộng đồng tại 18/34 xã, thị trấn.", kpi=18),
        _done("2022-08-26", "CDS22-27", "haihau",
              "34/34 xã, thị trấn đã có quyết định thành lập, kiện toàn Tổ công nghệ số cộng "
              "đồng.", on="2022-08-25", kpi=34),
        _progress("2022-05-10", "CDS22-28", "haitrung", 40,
                  "Đã tổ chức 3 buổi hướng dẫn tại nhà văn hóa các xóm; 210 lượt người dân được "
                  "hướng dẫn tạo tài khoản, nộp hồ sơ trực tuyến.", kpi=210),
        _done("2022-06-28", "CDS22-28", "haitrung",
              "Đã hướng dẫn 535 lượt người dân sử dụng dịch vụ công trực tuyến, vượt chỉ tiêu.",
              kpi=535),
        # --- PMDC ---
        _progress("2022-04-15", "CDS22-29", "sotttt", 40,
                  "Đã tổ chức 5 lớp tập huấn cho cán bộ, công chức cấp tỉnh và cấp huyện.", kpi=5),
        _done("2022-06-16", "CDS22-29", "sotttt",
              "Đã tổ chức 12 lớp tập huấn cho cán bộ, công chức 3 cấp tỉnh, huyện, xã.",
              on="2022-06-15", kpi=12),
        _progress("2022-04-20", "CDS22-30", "sotttt", 30,
                  "Đã tập huấn cho công chức một cửa của 70 đơn vị cấp xã.", kpi=70),
        _progress("2022-06-30", "CDS22-30", "sotttt", 75,
                  "Đã tập huấn cho công chức một cửa của 170 đơn vị cấp xã.", kpi=170,
                  difficulties="Lịch tập huấn phải điều chỉnh do trùng kỳ họp Hội đồng nhân dân "
                  "cấp xã."),
        _done("2022-08-12", "CDS22-30", "sotttt",
              "Công chức một cửa của 226/226 đơn vị cấp xã đã được tập huấn.", on="2022-08-10",
              kpi=226),
        _progress("2022-04-25", "CDS22-31", "haihau", 50,
                  "Đã tập huấn cho cán bộ, công chức của 17/34 xã, thị trấn.", kpi=17),
        _done("2022-06-24", "CDS22-31", "haihau",
              "Đã tập huấn sử dụng phần mềm dùng chung cho cán bộ, công chức 34/34 xã, thị trấn.",
              kpi=34),
        # The monitoring agency's corrections, in the tasks' change history.
        _event("2022-05-10", "CDS22-32", "sotttt", REASSIGN,
               "Văn phòng UBND tỉnh quản lý Cổng thông tin điện tử tỉnh nên chủ trì tập huấn "
               "quản trị Cổng/Trang thông tin điện tử (ý kiến chỉ đạo của UBND tỉnh).",
               agency="VP_UBND"),
        _event("2022-10-14", "CDS22-20", "sotttt", ADJUST_DUE,
               "Điều chỉnh theo lộ trình thu không dùng tiền mặt của ngành giáo dục, "
               "bắt đầu từ năm học 2022-2023.",
               proposed_due=datetime.date(2023, 6, 30)),
        # --- BAOCHI ---
        _progress("2022-03-25", "CDS22-33", "sotttt", 70,
                  "Đã hoàn thành dự thảo văn bản hướng dẫn, đang lấy ý kiến Văn phòng UBND tỉnh."),
        _done("2022-07-20", "CDS22-33", "sotttt",
              "Sở TT&TT đã ban hành văn bản hướng dẫn thực hiện quy định về phát ngôn và cung cấp "
              "thông tin cho báo chí.", on="2022-07-18"),
        _progress("2022-06-20", "CDS22-34", "sotttt", 50,
                  "Đã tổ chức lớp tập huấn kỹ năng phát ngôn cho người phát ngôn cấp tỉnh.", kpi=1),
        _done("2022-09-22", "CDS22-34", "sotttt",
              "Đã tổ chức 2 lớp tập huấn kỹ năng phát ngôn và cung cấp thông tin cho báo chí.",
              kpi=2),
        _progress("2022-03-31", "CDS22-35", "sotttt", 25,
                  "Đã phối hợp tổ chức 3 cuộc giao ban báo chí quý I.", kpi=3),
        _progress("2022-06-30", "CDS22-35", "sotttt", 50,
                  "Đã phối hợp tổ chức 6 cuộc giao ban báo chí.", kpi=6),
        _progress("2022-09-30", "CDS22-35", "sotttt", 75,
                  "Đã phối hợp tổ chức 9 cuộc giao ban báo chí.", kpi=9),
        _done("2022-12-28", "CDS22-35", "sotttt",
              "Đã phối hợp tổ chức 12 cuộc giao ban báo chí hằng tháng, có thông báo kết luận.",
              kpi=12),
        _progress("2022-02-15", "CDS22-36", "sotttt", 20,
                  "Đã ban hành văn bản định hướng tuyên truyền phòng, chống dịch COVID-19 dịp sau "
                  "Tết Nguyên đán."),
        _progress("2022-06-15", "CDS22-36", "sotttt", 50,
                  "Đã ban hành 14 văn bản chỉ đạo, định hướng tuyên truyền."),
        _progress("2022-10-15", "CDS22-36", "sotttt", 80,
                  "Đã ban hành 23 văn bản chỉ đạo, định hướng tuyên truyền; tuyên truyền tiêm vắc "
                  "xin mũi nhắc lại."),
        # Trung tâm VHTT&TT Hải Hậu reports through its district (the `haihau` account).
        _progress("2022-03-31", "CDS22-37", "haihau", 25,
                  "Đã sản xuất 78 chương trình thời sự tổng hợp.", kpi=78),
        _progress("2022-06-30", "CDS22-37", "haihau", 50,
                  "Đã sản xuất 155 chương trình thời sự tổng hợp.", kpi=155),
        _progress("2022-09-30", "CDS22-37", "haihau", 75,
                  "Đã sản xuất 232 chương trình thời sự tổng hợp.", kpi=232),
        _done("2022-12-30", "CDS22-37", "haihau",
              "Đã sản xuất 312 chương trình thời sự tổng hợp phát trên hệ thống phát thanh huyện.",
              kpi=312),
        _progress("2022-06-30", "CDS22-38", "haihau", 45,
                  "Đã sản xuất, biên tập 1.850 tin, bài.", kpi=1850),
        _progress("2022-12-20", "CDS22-38", "haihau", 92,
                  "Đã sản xuất, biên tập 3.700 tin, bài.", kpi=3700,
                  difficulties="Thiếu phóng viên, biên tập viên; thiết bị sản xuất chương trình đã "
                  "xuống cấp."),
        _progress("2022-06-30", "CDS22-39", "haihau", 50,
                  "Đã đăng tải 27 chương trình trên Cổng thông tin điện tử huyện.", kpi=27),
        _done("2022-12-29", "CDS22-39", "haihau",
              "Đã đăng tải 56 chương trình thời sự tổng hợp trên Cổng thông tin điện tử huyện.",
              kpi=56),
        _progress("2022-06-30", "CDS22-40", "haihau", 40,
                  "Đã cập nhật 18.000 văn bản lên Trang thông tin điện tử huyện.", kpi=18000),
        _progress("2022-12-15", "CDS22-40", "haihau", 85,
                  "Đã cập nhật 38.500 văn bản lên Trang thông tin điện tử huyện.", kpi=38500),
        # --- TTCS: CDS22-41 per district (due 31/12/2022) ---
        _progress("2022-04-20", "CDS22-41.UBND_TPND", "sotttt", 40,
                  "Theo báo cáo của UBND thành phố: đã rà soát, nâng cấp đài truyền thanh các "
                  "phường."),
        _progress("2022-09-10", "CDS22-41.UBND_TPND", "sotttt", 80,
                  "Đã lắp đặt bảng tin điện tử công cộng tại 10 phường."),
        _done("2022-12-16", "CDS22-41.UBND_TPND", "sotttt",
              "Đã hoàn thành các nội dung năm 2022 của Kế hoạch phát triển thông tin cơ sở."),
        _progress("2022-03-31", hh41, "haihau", 25,
                  "Đã ban hành kế hoạch thực hiện năm 2022; rà soát hiện trạng đài truyền thanh "
                  "cấp xã."),
        _progress("2022-06-30", hh41, "haihau", 50,
                  "Đã bồi dưỡng nghiệp vụ cho 68 cán bộ thông tin cơ sở của 34 xã, thị trấn."),
        _progress("2022-09-30", hh41, "haihau", 70,
                  "Đã đưa vào sử dụng 5 cụm loa ứng dụng công nghệ thông tin - viễn thông."),
        _progress("2022-12-22", hh41, "haihau", 85,
                  "Đã hoàn thành phần lớn nội dung năm 2022; còn việc lắp đặt bảng tin điện tử tại "
                  "trung tâm huyện.",
                  difficulties="Kinh phí lắp đặt bảng tin điện tử chưa được bố trí.",
                  proposals="Đề nghị chuyển nội dung lắp đặt bảng tin điện tử sang năm 2023."),
        _progress("2022-05-15", "CDS22-41.UBND_GIAOTHUY", "giaothuy", 30,
                  "Đã ban hành kế hoạch thực hiện, phân công các xã, thị trấn."),
        _progress("2022-10-15", "CDS22-41.UBND_GIAOTHUY", "giaothuy", 70,
                  "Đã bồi dưỡng nghiệp vụ cho cán bộ thông tin cơ sở; nâng cấp 6 đài truyền thanh "
                  "xã."),
        _progress("2022-07-20", "CDS22-41.UBND_NAMTRUC", "sotttt", 60,
                  "Đã bồi dưỡng nghiệp vụ cho cán bộ thông tin cơ sở các xã, thị trấn."),
        _progress("2022-08-10", "CDS22-41.UBND_YYEN", "sotttt", 40,
                  "Đã ban hành kế hoạch và rà soát hiện trạng đài truyền thanh cấp xã."),
        _progress("2022-06-15", "CDS22-41.UBND_XUANTRUONG", "sotttt", 50,
                  "Đã bồi dưỡng nghiệp vụ cho cán bộ thông tin cơ sở."),
        _progress("2022-09-05", "CDS22-41.UBND_TRUCNINH", "sotttt", 30,
                  "Đã ban hành kế hoạch thực hiện năm 2022."),
        _progress("2022-10-10", "CDS22-41.UBND_NGHIAHUNG", "sotttt", 20,
                  "Đang rà soát hiện trạng đài truyền thanh các xã."),
        _progress("2022-06-30", "CDS22-42", "haihau", 48,
                  "Các đài truyền thanh xã, thị trấn đã phát 620 tin, bài.", kpi=620),
        _progress("2022-12-20", "CDS22-42", "haihau", 90,
                  "Các đài truyền thanh xã, thị trấn đã phát 1.180 tin, bài, khoảng 9.200 lượt "
                  "truyền thanh, tiếp âm.", kpi=1180),
        _progress("2022-05-15", "CDS22-43", "haihau", 20,
                  "Đã khảo sát, lập dự toán chuyển đổi đài truyền thanh cho 10 xã.", kpi=2),
        _progress("2022-09-10", "CDS22-43", "haihau", 50,
                  "5/10 đài truyền thanh cấp xã đã chuyển đổi sang ứng dụng CNTT - viễn thông.",
                  kpi=5,
                  difficulties="Kinh phí chuyển đổi bố trí chậm; mới có 5/10 xã được phân bổ vốn.",
                  proposals="Đề nghị UBND tỉnh hỗ trợ kinh phí cho các xã còn lại."),
        _progress("2022-02-10", "CDS22-44", "sotttt", 60,
                  "Đã xây dựng dự thảo hướng dẫn tuyên truyền các ngày lễ, sự kiện năm 2022."),
        _done("2022-03-10", "CDS22-44", "sotttt",
              "Sở TT&TT đã ban hành văn bản hướng dẫn tuyên truyền các ngày lễ, sự kiện chính trị "
              "năm 2022.", on="2022-03-08"),
    ]
    # fmt: on
    # Python's sort is stable: events at the same instant keep the order written above.
    return sorted(events, key=lambda event: event.at)


# --- Loading ----------------------------------------------------------------------------------


@dataclass
class DemoResult:
    accounts_created: int = 0
    activity_created: bool = False
    events: int = 0
    # Category counts among leaf tasks at each showcase date.
    categories: dict[datetime.date, Counter] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


def _has_activity(plan: Plan) -> bool:
    return (
        StatusUpdate.objects.filter(task__plan=plan).exists()
        or DeadlineExtension.objects.filter(task__plan=plan).exists()
        or Task.objects.filter(plan=plan, parent__isnull=False).exists()
    )


def _check_plan(plan: Plan, events: list[DemoEvent]) -> dict[str, Agency]:
    """The demo needs the 2022 plan's agencies and tasks; return the agencies by code."""
    agency_codes = {a.agency for a in DEMO_ACCOUNTS if a.agency} | set(DISTRICTS)
    agency_codes |= {event.agency for event in events if event.agency}
    agencies = {a.code: a for a in Agency.objects.filter(code__in=agency_codes)}
    task_codes = {event.task.split(".")[0] for event in events} | set(SPLIT_TASKS)
    found = set(Task.objects.filter(plan=plan, code__in=task_codes).values_list("code", flat=True))
    missing = sorted(agency_codes - agencies.keys()) + sorted(task_codes - found)
    if missing:
        raise DemoError(
            _("The demo needs the 2022 plan; missing here: {codes}").format(
                codes=", ".join(missing)
            )
        )
    return agencies


def demo_accounts_ensure(*, agencies: dict[str, Agency]) -> tuple[dict, int]:
    """Create the demo accounts that do not exist yet, with their memberships. Returns the
    users by username and how many accounts were created."""
    user_model = get_user_model()
    users, created_count = {}, 0
    for account in DEMO_ACCOUNTS:
        user, created = user_model.objects.get_or_create(
            username=account.username,
            defaults={
                "first_name": account.first_name,
                "last_name": account.last_name,
                "email": account.email,
                # Only the administrator uses the Django admin; the others use the web pages.
                "is_staff": account.superuser,
                "is_superuser": account.superuser,
            },
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
            created_count += 1
        if account.agency:
            Membership.objects.get_or_create(
                user=user, agency=agencies[account.agency], role=account.role
            )
        users[account.username] = user
    return users, created_count


def _play(event: DemoEvent, *, plan: Plan, users: dict, agencies: dict[str, Agency]) -> None:
    """Apply one event through the services, as its author would have done then."""
    # Read the task afresh: earlier events changed its state and due date.
    task = Task.objects.select_related("lead_agency").get(plan=plan, code=event.task)
    user = users[event.user]
    kpi = Decimal(event.kpi) if event.kpi is not None else None
    if event.action == REPORT:
        status_update_record(
            task=task,
            author=user,
            agency=task.lead_agency,
            state=event.state,
            progress=event.progress,
            kpi_actual=kpi,
            completed_on=event.completed_on,
            result=event.text,
            difficulties=event.difficulties,
            proposals=event.proposals,
            recorded_at=event.at,
        )
    elif event.action == CONTRIBUTE:
        contribution_add(
            task=task,
            author=user,
            agency=agencies[event.agency],
            result=event.text,
            recorded_at=event.at,
        )
    elif event.action == REQUEST:
        extension_request(
            task=task,
            requested_by=user,
            agency=task.lead_agency,
            proposed_due=event.proposed_due,
            reason=event.text,
            requested_at=event.at,
        )
    elif event.action in (APPROVE, REJECT):
        extension = task.extensions.get(status=ExtensionStatus.PENDING)
        decide = extension_approve if event.action == APPROVE else extension_reject
        decide(extension=extension, decided_by=user, note=event.text, decided_at=event.at)
    elif event.action == CONFIRM:
        task_confirm_completion(task=task, user=user, note=event.text, recorded_at=event.at)
    elif event.action == WITHDRAW:
        task_withdraw(task=task, user=user, reason=event.text, recorded_at=event.at)
    elif event.action == ADJUST_DUE:
        assert event.proposed_due is not None
        task_adjust_due(
            task=task,
            due=event.proposed_due,
            author=user,
            reason=event.text,
            adjusted_at=event.at,
        )
    elif event.action == REASSIGN:
        task_update_fields(
            task=task,
            expected_version=None,
            author=user,
            reason=event.text,
            changed_at=event.at,
            lead_agency=agencies[event.agency],
        )
    else:  # pragma: no cover - the timeline is fixed
        raise DemoError(f"unknown demo action {event.action}")


def demo_categories(*, plan: Plan, as_of: datetime.date) -> Counter:
    """Report categories among the plan's leaf tasks at `as_of` (what reports count)."""
    return Counter(
        Task.objects.filter(plan=plan)
        .leaves()
        .with_category(as_of)
        .exclude(category=None)
        .values_list("category", flat=True)
    )


def demo_load(*, plan: Plan) -> DemoResult:
    """Create the demo accounts and, once per plan, the demo activity of 2022 (see the
    module docstring for the guarantees). Runs in one transaction."""
    timeline = demo_timeline()
    result = DemoResult()
    with transaction.atomic():
        agencies = _check_plan(plan, timeline)
        users, result.accounts_created = demo_accounts_ensure(agencies=agencies)
        result.lines.append(
            _("Demo accounts: {total} ({created} new), password {password}").format(
                total=len(DEMO_ACCOUNTS),
                created=result.accounts_created,
                password=DEMO_PASSWORD,
            )
        )
        result.lines += demo_current_load(today=timezone.localdate(), users=users)
        skipped = _has_activity(plan)
        if skipped:
            result.lines.append(
                _("Demo activity: skipped, plan {code} already has activity.").format(
                    code=plan.code
                )
            )
        else:
            districts = [agencies[code] for code in DISTRICTS]
            children = 0
            for code in SPLIT_TASKS:
                children += len(
                    task_split(task=Task.objects.get(plan=plan, code=code), agencies=districts)
                )
            for event in timeline:
                _play(event, plan=plan, users=users, agencies=agencies)
            result.activity_created = True
            result.events = len(timeline)
            result.lines.append(
                _(
                    "Demo activity: {tasks} tasks split into {children} per-district tasks; "
                    "{events} updates and decisions recorded over 2022."
                ).format(tasks=len(SPLIT_TASKS), children=children, events=len(timeline))
            )
        # After 2022 came the reorganisation of 2025 (idempotent: a second load moves and
        # reassigns nothing more).
        result.lines += demo_reform_apply(plan=plan, today=timezone.localdate(), users=users)
        if skipped:
            return result
    for as_of in SHOWCASE_DATES:
        counts = demo_categories(plan=plan, as_of=as_of)
        result.categories[as_of] = counts
        result.lines.append(
            _("Report categories at {date} (leaf tasks): {counts}").format(
                date=as_of.isoformat(),
                counts=", ".join(f"{code} {counts[code]}" for code in sorted(counts)),
            )
        )
    return result
