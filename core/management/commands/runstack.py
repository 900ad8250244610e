"""`manage.py runstack`: the whole app on one machine with embedded defaults.

Starts what is not configured externally (embedded MongoDB-wire server, anvil mining a block every
EMBEDDED_ETH_BLOCK_TIME seconds, SMTP catcher; with that local anvil, two more anvils standing in for
polygon and bsc, see STAND_IN_CHAINS), migrates, loads demo data into an empty database,
reconciles stored sends with the node once (a send cut short by the last stop is rebroadcast or
settled), then runs the huey consumer and daphne until Ctrl-C, and stops every process it started, in
reverse order. Data lives under DATA_DIR (var/); the embedded server archives the oplog rows it
prunes in DATA_DIR/mongodb-oplog (EMBEDDED_MONGODB_OPLOG_ARCHIVE=false turns it off), the history
`manage.py restore --until` replays (point-in-time recovery, core/oplog_replay.py).

Every child is supervised (core.localstack.Supervisor): one that dies is started again, on the same
data, after a backoff (0.5 s doubling to 30 s); each start, crash and restart is a `supervisor:` line
on the output (and a warning in the app log). After RUNSTACK_MAX_FAST_CRASHES (5) crashes in a row of
one child, each within RUNSTACK_FAST_CRASH_SECONDS (30) of its start, runstack gives up loudly: it
stops everything and exits 1.
"""

import logging
import os
import signal
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from core import localstack
from core.demo import demo_login_lines

logger = logging.getLogger(__name__)


def _env_flag(name: str, default: bool) -> bool:
    """An on/off knob from the environment (only runstack reads these): true/1/yes/on or false/0/no/off."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise CommandError(f"{name} must be true or false, not {raw!r}")


# The local nodes that stand in for the other networks of wallets.networks when the ethereum node is
# the local anvil: (network, RPC URL setting, port variable, default port, chain id setting). One whose
# RPC URL the operator set is not started (the app uses the operator's node). Otherwise runstack sets
# that URL for the app (its children inherit it) after starting the node.
STAND_IN_CHAINS = (
    ("polygon", "POLYGON_RPC_URL", "EMBEDDED_POLYGON_PORT", 8546, "POLYGON_CHAIN_ID"),
    ("bsc", "BSC_RPC_URL", "EMBEDDED_BSC_PORT", 8547, "BSC_CHAIN_ID"),
)


def _env_port(name: str, default: int) -> tuple[int, bool]:
    """(port, whether the operator chose it) from the environment (only runstack reads these)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default, False
    if not raw.isdigit() or not 0 < int(raw) < 65536:
        raise CommandError(f"{name} must be a port number, not {raw!r}")
    return int(raw), True


def _env_number(name: str, default: float) -> float:
    """A supervision knob from the environment (only runstack reads these)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        value = float(raw)
    except ValueError:
        raise CommandError(f"{name} must be a number, not {raw!r}") from None
    if value <= 0:
        raise CommandError(f"{name} must be positive, not {raw!r}")
    return value


class Command(BaseCommand):
    help = "Run the whole back-office: embedded services, migrations, demo data, task consumer, daphne."

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true", help="Never load demo data.")
        parser.add_argument("--workers", type=int, default=2, help="Task-queue worker threads.")

    def handle(self, *args, **options):
        data_dir = Path(settings.DATA_DIR)
        log_dir = Path(settings.LOG_DIR)
        stopping = False

        def request_stop(signum, frame):
            nonlocal stopping
            stopping = True

        def say(message: str) -> None:
            # Crashes, restarts and giving up go to the app log (file and console, with a time);
            # the first start of each child to the output, like the other start-up lines.
            if "running (pid" not in message and logger.isEnabledFor(logging.WARNING):
                (logger.error if "GIVING UP" in message else logger.warning)("%s", message)
            else:
                self.stdout.write(message)
                self.stdout.flush()

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        supervisor = localstack.Supervisor(
            say, max_fast_crashes=int(_env_number("RUNSTACK_MAX_FAST_CRASHES", 5)),
            fast_seconds=_env_number("RUNSTACK_FAST_CRASH_SECONDS", 30),
            backoff_first=_env_number("RUNSTACK_BACKOFF_SECONDS", 0.5),
            backoff_max=_env_number("RUNSTACK_BACKOFF_MAX_SECONDS", 30),
        )
        began = time.monotonic()
        try:
            if settings.MONGODB_EMBEDDED:
                # The oplog archive (point-in-time recovery, docs/operations.md); off only when asked.
                oplog_archive = (data_dir / localstack.OPLOG_ARCHIVE_FOLDER
                                 if _env_flag("EMBEDDED_MONGODB_OPLOG_ARCHIVE", True) else None)
                self.stdout.write(f"starting embedded MongoDB on 127.0.0.1:{settings.EMBEDDED_MONGODB_PORT} "
                                  f"(data: {data_dir / 'mongodb'}; oplog archive: {oplog_archive or 'off'})")
                supervisor.add("embedded MongoDB", lambda: localstack.start_embedded_mongodb(
                    settings.EMBEDDED_MONGODB_PORT,
                    data_dir / "mongodb",  # the same storage on every restart: the data is kept
                    log_path=log_dir / "mongodb.log",
                    sync_on_commit=settings.EMBEDDED_MONGODB_SYNC_ON_COMMIT,
                    oplog_archive_dir=oplog_archive,
                ))
            if settings.ETH_EMBEDDED:
                self.stdout.write(f"starting anvil on {settings.ETH_RPC_URL} (state: {data_dir / 'chain'})")
                supervisor.add("anvil", lambda: localstack.start_anvil(
                    settings.EMBEDDED_ETH_PORT,
                    state_path=data_dir / "chain" / "state.json",
                    log_path=log_dir / "anvil.log",
                    chain_id=settings.ETH_CHAIN_ID,
                    block_time=settings.EMBEDDED_ETH_BLOCK_TIME or None,
                ))
                self._start_stand_in_chains(supervisor, data_dir, log_dir)
            if settings.EMAIL_EMBEDDED:
                self.stdout.write(f"starting SMTP catcher on 127.0.0.1:{settings.EMAIL_PORT} "
                                  f"(mail: {data_dir / 'mail'})")
                supervisor.add("SMTP catcher", lambda: localstack.start_smtp_process(
                    settings.EMAIL_PORT, data_dir / "mail", log_path=log_dir / "smtp.log"))

            call_command("migrate", interactive=False, verbosity=0)
            self._load_demo_if_empty(options["no_demo"])
            self._reconcile_sends()

            python = sys.executable
            # huey finishes running tasks on SIGINT; the others stop cleanly on SIGTERM
            # (anvil writes its state file, the database closes WiredTiger).
            supervisor.add("huey consumer", lambda: localstack.ManagedProcess(
                "huey consumer",
                [python, "manage.py", "run_huey", "--workers", str(options["workers"])],
                log_path=log_dir / "huey.log",
            ).start(), stop_signal=signal.SIGINT)

            def start_daphne():
                daphne = localstack.ManagedProcess(
                    "daphne",
                    [str(Path(python).with_name("daphne")), "-b", settings.APP_HOST, "-p", str(settings.APP_PORT),
                     "--access-log", str(log_dir / "access.log"), "config.asgi:application"],
                    log_path=log_dir / "daphne.log",
                ).start()
                daphne.wait_until(lambda: localstack.port_open(settings.APP_PORT, settings.APP_HOST),
                                  timeout=60, what="HTTP port")
                return daphne

            supervisor.add("daphne", start_daphne)

            self._print_ready(time.monotonic() - began)
            while not stopping:
                supervisor.poll()
                time.sleep(0.5)
        except localstack.SupervisorGaveUp as error:
            raise CommandError(f"{error}\nsee the logs in {log_dir}") from error
        finally:
            self.stdout.write("stopping...")
            supervisor.stop_all()
            self.stdout.write("stopped.")

    def _start_stand_in_chains(self, supervisor, data_dir: Path, log_dir: Path) -> None:
        """An anvil per STAND_IN_CHAINS network whose RPC URL the operator did not set, supervised like
        the ethereum one, its state in DATA_DIR/chain-<network>/; its URL set for this process and the
        children. A default port already taken falls back to a free one (a chosen one is an error)."""
        for network, url_setting, port_variable, default_port, chain_id_setting in STAND_IN_CHAINS:
            if os.environ.get(url_setting, "").strip() or getattr(settings, url_setting, ""):
                self.stdout.write(f"{network}: using {url_setting} (no local node)")
                continue
            port, chosen = _env_port(port_variable, default_port)
            if not chosen and localstack.port_open(port):
                port = localstack.free_port()
                self.stdout.write(f"{network}: port {default_port} is taken, using {port} "
                                  f"(set {port_variable} to choose)")
            chain_id = int(getattr(settings, chain_id_setting))
            url = f"http://127.0.0.1:{port}"
            self.stdout.write(f"starting anvil for {network} (chain id {chain_id}) on {url} "
                              f"(state: {data_dir / f'chain-{network}'})")

            def start(port=port, network=network, chain_id=chain_id):
                return localstack.start_anvil(
                    port,
                    state_path=data_dir / f"chain-{network}" / "state.json",
                    log_path=log_dir / f"anvil-{network}.log",
                    chain_id=chain_id,
                    block_time=settings.EMBEDDED_ETH_BLOCK_TIME or None,
                    name=f"anvil {network}",
                )

            supervisor.add(f"anvil {network}", start)
            os.environ[url_setting] = url  # the huey consumer and daphne read it at start
            setattr(settings, url_setting, url)  # this process (the start-up reconciliation)

    def _load_demo_if_empty(self, no_demo: bool) -> None:
        if no_demo or not settings.LOAD_DEMO_DATA or get_user_model().objects.exists():
            return
        self.stdout.write("empty database: loading demo data (first run only)")
        call_command("load_demo")

    def _reconcile_sends(self) -> None:
        try:
            call_command("reconcile_sends", stdout=self.stdout)
        except Exception:  # the node may be unreachable: the periodic task tries again every minute
            logger.exception("start-up reconciliation of sends failed")
            self.stdout.write("could not reconcile sends with the node now; the task queue retries every minute")

    def _print_ready(self, seconds: float) -> None:
        site = settings.SITE_URL
        lines = [
            "",
            f"Crypto Books is running (ready in {seconds:.1f}s):",
            f"  back-office  {site}/app/",
            f"  admin        {site}/admin/",
            f"  API docs     {site}/api/docs",
            f"  logs         {settings.LOG_DIR}",
        ]
        try:
            login_lines = demo_login_lines("    ")
        except Exception:  # the demo is a convenience: never let it stop a started stack
            logger.exception("could not list the demo logins")
            login_lines = []
        if login_lines:
            lines.append("  demo logins, who is where (organization, then username / password / role):")
            lines += login_lines
        lines.append("Press Ctrl-C to stop everything.")
        self.stdout.write("\n".join(lines))
