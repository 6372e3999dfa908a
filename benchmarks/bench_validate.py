"""How fast ``propflow validate`` checks a large library, and whether it stays linear.

Generates N process files, each with a rules file of two or three time limits (plus one
calendars file), shaped like the shipped library: ten states, twelve events, nine form
fields, bilingual labels, guards, actions, working-time and anchored limits, escalation
tiers. Every generated set validates with no diagnostic at all, so the time measured is that
of a clean run (tests/test_bench_smoke.py keeps it so). Each size is validated three times
and the best wall-clock and CPU times are kept; validation runs in this process, on one core.

    python benchmarks/bench_validate.py                 # 250, 500 and 1,000 process files
    python benchmarks/bench_validate.py --files 2000    # other sizes

Exits 1 if the CPU time per file at the largest size is more than 1.5 times that at the
smallest (the validator must stay linear in the number of files).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from engine.checks.validation import validate_paths

DEFAULT_SIZES = (250, 500, 1000)
#: The largest allowed ratio of time per file at the largest size to that at the smallest.
LINEARITY = 1.5

STATE_WORDS = [
    ("received", "已受理", "Received"),
    ("recorded", "已登记", "Recorded"),
    ("assessed", "已评估", "Assessed"),
    ("quoted", "已报价", "Quoted"),
    ("scheduled", "已预约", "Scheduled"),
    ("dispatched", "已派工", "Dispatched"),
    ("in_progress", "处理中", "In progress"),
    ("inspected", "已查验", "Inspected"),
    ("awaiting_owner", "待业主确认", "Awaiting the owner"),
    ("signed_off", "已签收", "Signed off"),
    ("reviewed", "已复核", "Reviewed"),
    ("visited", "已回访", "Visited"),
]
ROLES = {
    "receptionist": ("接待员", "Receptionist", "接听来电、登记、回访"),
    "supervisor": ("主管", "Supervisor", "派工、跟进、审核"),
    "technician": ("维修人员", "Technician", "上门处理并填写记录"),
    "head": ("服务中心负责人", "Service-centre head", "审批延期"),
    "manager": ("管理处主任", "Estate manager", "处理升级事项"),
}
CATEGORIES = ["drain", "leak", "light", "lock", "power", "door", "wall", "lift"]


@dataclass(frozen=True)
class Timing:
    """The best of several runs over one generated set: wall-clock and CPU seconds."""

    processes: int
    files: int
    seconds: float
    cpu_seconds: float

    @property
    def per_file_ms(self) -> float:
        return 1000 * self.seconds / self.processes

    @property
    def cpu_per_file_ms(self) -> float:
        return 1000 * self.cpu_seconds / self.processes

    @property
    def files_per_second(self) -> float:
        return self.files / self.seconds


#: The figures a generated time limit draws from, with the words its label says them in.
RESPONSE_LIMITS = [
    ("30m", "30分钟", "30 minutes"),
    ("1h", "1小时", "1 hour"),
    ("PT45M", "45分钟", "45 minutes"),
]
RESOLVE_LIMITS = [
    ("3 workdays", "三个工作日", "3 working days"),
    ("24 workhours", "24个工作小时", "24 working hours"),
    ("5 workdays", "五个工作日", "5 working days"),
]


def _label(zh: str, en: str) -> dict[str, str]:
    return {"zh-CN": zh, "en": en}


def process_data(pid: str, rng: random.Random) -> dict[str, Any]:
    """One process: ten states in a chain with a rework loop, a cancel and a note event."""
    chosen = rng.sample(STATE_WORDS, 8)
    steps = [word for word, _, _ in chosen]
    states: dict[str, Any] = {}
    for index, (sid, zh, en) in enumerate(chosen):
        state: dict[str, Any] = {"label": _label(zh, en)}
        if index == 0:
            state["initial"] = True
        state["description"] = _label(f"{zh}：按程序办理", f"{en}: handled as the procedure says")
        if index % 3 == 1:
            state["on_enter"] = [
                {"notify": "supervisor", "message": _label(f"个案{zh}", f"Case {en.lower()}")}
            ]
        states[sid] = state
    states["closed"] = {"final": True, "label": _label("已关闭", "Closed")}
    states["cancelled"] = {"final": True, "label": _label("已取消", "Cancelled")}

    events: dict[str, Any] = {}
    chain = [*steps, "closed"]
    for index, (source, target) in enumerate(itertools.pairwise(chain)):
        event: dict[str, Any] = {
            "label": _label(f"第{index + 1}步", f"Step {index + 1}"),
            "from": source,
            "to": target,
            "roles": rng.sample(["receptionist", "supervisor", "technician"], 2),
        }
        if index == 0:
            event["if"] = "urgency == 'urgent' or actor.role == 'supervisor'"
        elif index == 2:
            pair = f"'{CATEGORIES[0]}', '{rng.choice(CATEGORIES[1:])}'"
            event["if"] = f"category in [{pair}] or fee >= {rng.randint(0, 500)}"
            event["requires"] = ["category"]
        elif index == 4:
            event["requires"] = ["appointment_at"]
            event["set"] = {"chargeable": rng.choice([True, False])}
        elif index == 6:
            event["if"] = "chargeable == false or (fee > 0 and payload.fee != null)"
            event["actions"] = [{"assign": "technician"}, {"set": {"hours": rng.randint(1, 9)}}]
        events[f"step_{index + 1}"] = event
    events["fast_track"] = {
        "label": _label("快速处理", "Fast track"),
        "from": steps[1],
        "to": steps[4],
        "roles": ["supervisor"],
        "if": "urgency == 'urgent' and not (category in ['wall', 'lift'])",
    }
    events["rework"] = {
        "label": _label("返工", "Rework"),
        "from": steps[6],
        "to": steps[4],
        "roles": ["supervisor", "head"],
        "actions": [{"notify": "technician", "message": _label("需返工", "Rework needed")}],
    }
    events["cancel"] = {
        "label": _label("取消", "Cancel"),
        "from": steps[:4],
        "to": "cancelled",
        "roles": ["receptionist", "head"],
        "if": "state != 'closed' and actor.id != null",
    }
    events["add_note"] = {
        "label": _label("添加备注", "Add a note"),
        "from": steps,
        "roles": ["receptionist", "supervisor", "technician"],
    }

    return {
        "process": pid,
        "title": _label(f"流程{pid[-4:]}", f"Procedure {pid}"),
        "description": _label("由基准测试生成的流程。", "A procedure generated by the benchmark."),
        "source": "benchmark",
        "record": _label("登记表", "Record form"),
        "roles": {
            rid: {"label": _label(zh, en), "duties": _label(duties, f"{en}'s duties")}
            for rid, (zh, en, duties) in ROLES.items()
        },
        "fields": {
            "unit": {"type": "text", "required": True, "label": _label("房号", "Unit")},
            "phone": {"type": "phone", "label": _label("电话", "Phone")},
            "urgency": {
                "type": "enum",
                "values": ["urgent", "general"],
                "default": "general",
                "label": _label("紧急程度", "Urgency"),
                "value_labels": {"urgent": {"zh-CN": "急修"}, "general": {"zh-CN": "一般"}},
            },
            "category": {
                "type": "enum",
                "values": CATEGORIES,
                "label": _label("类别", "Category"),
            },
            "fee": {"type": "money", "min": 0, "label": _label("费用", "Fee")},
            "chargeable": {"type": "bool", "default": False, "label": _label("收费", "Chargeable")},
            "hours": {"type": "int", "min": 0, "label": _label("工时", "Hours")},
            "appointment_at": {"type": "datetime", "label": _label("预约时间", "Appointment")},
            "completed_on": {"type": "date", "label": _label("完成日期", "Completed on")},
        },
        "states": states,
        "events": events,
    }


def rules_data(pid: str, process: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    """Two or three time limits on ``process``: a response, a resolution, an appointment."""
    steps = [sid for sid, state in process["states"].items() if not state.get("final")]
    # The labels say the figure drawn (PF208 warns of words that contradict it).
    response, response_zh, response_en = rng.choice(RESPONSE_LIMITS)
    resolve, resolve_zh, resolve_en = rng.choice(RESOLVE_LIMITS)
    limits: dict[str, Any] = {
        f"{pid}-response": {
            "label": _label(f"{response_zh}内响应", f"Response within {response_en}"),
            "source": "benchmark §1",
            "process": pid,
            "if": "urgency == 'urgent'",
            "calendar": "24x7",
            "start": {"enter": steps[0]},
            "stop": {"enter": [steps[2], "cancelled"]},
            "limit": response,
            "warn": ["50%"],
            "on_breach": [
                {"notify": "supervisor", "message": _label("未按时响应", "No timely response")}
            ],
        },
        f"{pid}-resolve": {
            "label": _label(f"{resolve_zh}内解决", f"Resolved within {resolve_en}"),
            "source": "benchmark §2",
            "process": pid,
            "calendar": "office",
            "start": {"event": ["step_1", "fast_track"]},
            "stop": {"enter": ["closed", "cancelled"]},
            "pause": {"in": [steps[3]]},
            "reset": {"event": "rework"},
            "limit": resolve,
            "warn": ["80%", "2h"],
            "extend": {"by": ["head"], "needs": ["owner_consent"]},
            "on_breach": [{"escalate": "head"}],
            "tiers": [
                {
                    "after": "2w",
                    "extend_by": ["manager"],
                    "actions": [
                        {"escalate": "manager"},
                        {"notify": "head", "message": _label("两周未解决", "Open for two weeks")},
                    ],
                }
            ],
        },
    }
    if rng.random() < 0.5:
        limits[f"{pid}-appointment"] = {
            "label": _label("预约前15分钟联系业主", "Call 15 minutes before"),
            "process": pid,
            "if": "appointment_at != null",
            "calendar": "24x7",
            "start": {"enter": steps[4]},
            "stop": {"exit": steps[4]},
            "deadline": "15m before appointment_at",
            "on_breach": [{"notify": "technician"}],
        }
    return {"time_limits": limits}


CALENDARS: dict[str, Any] = {
    "calendars": {
        "24x7": {
            "label": _label("全天候", "Around the clock"),
            "timezone": "Asia/Shanghai",
            "hours": "always",
            "holidays": "none",
        },
        "office": {
            "label": _label("办公时间", "Office hours"),
            "timezone": "Asia/Shanghai",
            "hours": {"mon-fri": ["08:30-12:00", "13:30-17:30"]},
            "holidays": "cn",
            "closed": ["2026-12-31"],
        },
    }
}


def _write(path: Path, schema: str, data: dict[str, Any]) -> None:
    text = yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False, default_flow_style=None, width=100
    )
    header = f"# yaml-language-server: $schema=../schemas/{schema}.schema.json\n"
    path.write_text(header + text, encoding="utf-8")


def generate(directory: Path, count: int, seed: int = 1) -> int:
    """Write ``count`` process files with their rules into ``directory``; return all files."""
    processes, rules = directory / "processes", directory / "rules"
    processes.mkdir(parents=True, exist_ok=True)
    rules.mkdir(parents=True, exist_ok=True)
    _write(rules / "calendars.yaml", "rules", CALENDARS)
    for index in range(count):
        rng = random.Random(seed * 1_000_003 + index)
        pid = f"procedure_{index:04d}"
        process = process_data(pid, rng)
        _write(processes / f"{pid}.yaml", "process", process)
        _write(rules / f"{pid}.yaml", "rules", rules_data(pid, process, rng))
    return 2 * count + 1


def measure(count: int, repeat: int) -> Timing:
    """Generate ``count`` processes and time ``validate_paths`` over them, best of ``repeat``."""
    with tempfile.TemporaryDirectory(prefix="propflow-bench-") as tmp:
        root = Path(tmp)
        files = generate(root, count)
        best = best_cpu = float("inf")
        for _ in range(repeat):
            gc.collect()  # start each run from the same heap, not the last run's garbage
            started, started_cpu = time.perf_counter(), time.process_time()
            report = validate_paths([root / "processes", root / "rules"])
            best = min(best, time.perf_counter() - started)
            best_cpu = min(best_cpu, time.process_time() - started_cpu)
            if report.diagnostics:
                raise SystemExit(f"the generated set is not clean: {report.diagnostics[0]}")
            del report
    return Timing(count, files, best, best_cpu)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--files",
        type=int,
        nargs="+",
        default=list(DEFAULT_SIZES),
        metavar="N",
        help="process files to generate, each with a rules file (default: 250 500 1000)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; the best counts")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.files))
    if any(size < 1 for size in sizes) or args.repeat < 1:
        parser.error("--files and --repeat must be positive")

    print(
        "| process files | files (with rules) | seconds | ms per process file | files/s "
        "| CPU seconds |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    timings = []
    for size in sizes:
        timing = measure(size, args.repeat)
        timings.append(timing)
        print(
            f"| {timing.processes:,} | {timing.files:,} | {timing.seconds:.2f} "
            f"| {timing.per_file_ms:.2f} | {timing.files_per_second:,.0f} "
            f"| {timing.cpu_seconds:.2f} |",
            flush=True,
        )

    status = 0
    if len(timings) > 1:
        # On CPU time, which other processes on a shared machine disturb far less than the
        # wall clock; on a quiet machine the two agree.
        ratio = timings[-1].cpu_per_file_ms / timings[0].cpu_per_file_ms
        linear = ratio <= LINEARITY
        print(
            f"\nlinearity: CPU time per file at {timings[-1].processes:,} is {ratio:.2f}x that "
            f"at {timings[0].processes:,} (limit {LINEARITY}x): {'ok' if linear else 'FAILED'}"
        )
        status = 0 if linear else 1
    return status


if __name__ == "__main__":
    sys.exit(main())
