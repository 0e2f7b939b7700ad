"""A Spark session whose Python workers run this interpreter, with Java and the master URL checked."""

from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from nerkit.errors import NerkitError, check_choice
from nerkit.files import write_text_atomic

if TYPE_CHECKING:  # pyspark is optional
    from pyspark.sql import SparkSession

LOG4J_VERSION = 3  # in the file's name: a changed configuration gets a new file
LOG4J_CONFIG = """\
rootLogger.level = {level}
rootLogger.appenderRef.stderr.ref = stderr
logger.spark.name = org.apache.spark
logger.spark.level = {level}
appender.console.type = Console
appender.console.name = stderr
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{{yy/MM/dd HH:mm:ss}} %p %c{{1}}: %m%n%ex
"""
LOG_LEVELS = ("OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL")
JAVA_HINT = "install a Java runtime 17 or newer (e.g. apt install openjdk-17-jre-headless) or set JAVA_HOME"


def import_pyspark() -> ModuleType:
    """The pyspark module, or one clear error saying how to install it."""
    try:
        import pyspark
    except ImportError:
        raise NerkitError("Spark support needs pyspark", hint="pip install 'nerkit[spark]'") from None
    return pyspark


def find_java() -> str:
    """The java binary Spark will start: $JAVA_HOME/bin/java, else java on the PATH."""
    home = os.environ.get("JAVA_HOME")
    if home:
        java = os.path.join(home, "bin", "java")
        if os.access(java, os.X_OK):
            return java
        raise NerkitError(f"JAVA_HOME is {home}, but it holds no bin/java", hint=JAVA_HINT)
    on_path = shutil.which("java")
    if on_path is None:
        raise NerkitError("Spark needs Java, and there is no java on the PATH", hint=JAVA_HINT)
    return on_path


def check_master(master: str) -> None:
    """Refuse a master URL Spark cannot parse, before a JVM starts."""
    local = re.fullmatch(r"local(\[(\*|\d+)(,\s*\d+)?\])?", master)
    if local is not None:
        if local.group(2) == "0":
            raise NerkitError("local[0] gives Spark no cores", hint="use local[N] with N >= 1, or local[*]")
        return
    if re.fullmatch(r"(spark|mesos)://[^\s/]+(:\d+)?(,[^\s/]+(:\d+)?)*/?", master) or master in ("yarn",):
        return
    if re.fullmatch(r"k8s://\S+", master):
        return
    raise NerkitError(
        f"{master!r} is not a Spark master URL",
        hint="use local[N] (N cores on this machine), local[*], spark://HOST:PORT, yarn or k8s://URL",
    )


def spark_session(
    master: str = "local[*]",
    app_name: str = "nerkit",
    config: dict[str, str] | None = None,
    log_level: str = "ERROR",
) -> SparkSession:
    """A SparkSession at `master` whose Python workers are this interpreter (so they import nerkit), with
    Arrow on and Spark's log at `log_level` ("OFF" silences it). An existing session is reused. Raises
    NerkitError for no Java or a bad master URL."""
    import_pyspark()
    check_master(master)
    find_java()
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
    )
    check_choice("Spark log level", log_level.upper(), LOG_LEVELS)
    config = dict(config or {})
    options = config.get("spark.driver.extraJavaOptions", "")
    if "log4j2.configurationFile" not in options:  # the user's own log configuration wins
        config["spark.driver.extraJavaOptions"] = f"{options} {log4j_option(log_level)}".strip()
    for key, value in config.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as error:  # the JVM failed to start or refused the settings
        raise NerkitError(f"Spark did not start: {first_line(error)}", hint=JAVA_HINT) from None
    session.sparkContext.setLogLevel(log_level)
    return session


def log4j_option(level: str) -> str:
    """The JVM option that makes Spark log at `level` from its first line on (setLogLevel comes too late
    for the start-up lines): a log4j2 configuration kept in this user's private temporary folder. Spark's
    own loggers are set too, or Spark announces a default level of its own. (Java's notice of the
    incubator modules Spark asks for stays.)"""
    folder = Path(tempfile.gettempdir()) / f"nerkit-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.stat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077:  # not ours alone: trust nothing in it
        folder = Path(tempfile.mkdtemp(prefix="nerkit-"))
    path = folder / f"log4j2-{LOG4J_VERSION}-{level.lower()}.properties"
    if not path.is_file():
        write_text_atomic(path, [LOG4J_CONFIG.format(level=level.lower())])
    return f"-Dlog4j2.configurationFile={path.as_uri()}"


def first_line(error: BaseException) -> str:
    """The first non-empty line of an error's message (Spark's run to hundreds of lines)."""
    for line in str(error).splitlines():
        if line.strip():
            return line.strip()
    return type(error).__name__
