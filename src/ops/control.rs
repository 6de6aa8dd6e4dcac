//! The control socket: `serve` listens on `control.sock` in its data dir (mode 0600: only the
//! user running the server may talk to it) and runs the [`Op`]s that a second `offerwatch`
//! command sends, on its own engine. One JSON line asks (`{"op": …}`), followed by the data
//! of `import -`; the answer is lines tagged `o ` (output) or `e ` (problems), and a last line
//! `x 0` or `x 1 message`.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};

use super::{Op, Output};
use crate::config::Config;
use crate::engine::Engine;

/// The socket's name in the data dir.
pub const SOCKET: &str = "control.sock";
/// Operations run at once; more are told to retry.
const AT_ONCE: usize = 4;

#[derive(Serialize, Deserialize)]
struct Request {
    op: Op,
}

/// The socket path of a data dir.
pub fn socket_path(data_dir: &Path) -> PathBuf {
    data_dir.join(SOCKET)
}

/// Whether a server answers on the data dir's socket.
pub fn is_served(data_dir: &Path) -> bool {
    UnixStream::connect(socket_path(data_dir)).is_ok()
}

/// Removes the socket when the server stops.
pub struct Listening {
    path: PathBuf,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Listens on the data dir's socket (the caller holds the store's lock, so a socket file left
/// there is stale) and serves operations in threads of their own.
pub fn listen(engine: Arc<Engine>, config: Config) -> std::io::Result<Listening> {
    let path = socket_path(engine.data_dir());
    let _ = std::fs::remove_file(&path);
    let listener = UnixListener::bind(&path)?;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))?;
    let busy = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("control".into())
        .spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (engine, config, busy) = (engine.clone(), config.clone(), busy.clone());
                let spawned = std::thread::Builder::new()
                    .name("control-op".into())
                    .spawn(move || {
                        if busy.fetch_add(1, Ordering::SeqCst) >= AT_ONCE {
                            let _ = (&stream).write_all(
                                format!("x 1 the server runs {AT_ONCE} operations already: try again when one ends\n").as_bytes(),
                            );
                        } else {
                            answer(&engine, &config, stream);
                        }
                        busy.fetch_sub(1, Ordering::SeqCst);
                    });
                if let Err(e) = spawned {
                    tracing::error!(error = %e, "cannot start a control operation");
                }
            }
        })?;
    Ok(Listening { path })
}

/// Writes complete lines, each with its tag, to the socket.
struct Channel<'a> {
    stream: &'a UnixStream,
    tag: &'static str,
    line: Vec<u8>,
}

impl Write for Channel<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            if b == b'\n' {
                self.emit()?;
            } else {
                self.line.push(b);
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.line.is_empty() {
            return Ok(());
        }
        self.emit()
    }
}

impl Channel<'_> {
    fn emit(&mut self) -> std::io::Result<()> {
        let mut line = Vec::with_capacity(self.line.len() + 3);
        line.extend_from_slice(self.tag.as_bytes());
        line.append(&mut self.line);
        line.push(b'\n');
        self.stream.write_all(&line)
    }
}

fn answer(engine: &Engine, config: &Config, stream: UnixStream) {
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    let outcome = match reader.read_line(&mut first) {
        Err(e) => Err(anyhow::anyhow!("cannot read the request: {e}")),
        Ok(_) => match serde_json::from_str::<Request>(&first) {
            Err(e) => Err(anyhow::anyhow!(
                "not a request of this version of offerwatch ({e}): run the same version as the server"
            )),
            Ok(req) => {
                tracing::info!(op = ?req.op, "control operation");
                let mut out = Channel {
                    stream: &writer,
                    tag: "o ",
                    line: Vec::new(),
                };
                let mut err = Channel {
                    stream: &writer,
                    tag: "e ",
                    line: Vec::new(),
                };
                let mut o = Output {
                    out: &mut out,
                    err: &mut err,
                    interactive: false,
                };
                super::run(engine, config, req.op, Box::new(reader), &mut o)
            }
        },
    };
    let last = match outcome {
        Ok(()) => "x 0\n".to_string(),
        Err(e) => format!("x 1 {}\n", format!("{e:#}").replace('\n', " ")),
    };
    let _ = (&writer).write_all(last.as_bytes());
}

/// Sends `op` to the server running on `data_dir`, printing what it answers. `None` when no
/// server answers there (then the data dir may be opened directly).
pub fn call(data_dir: &Path, op: &Op) -> anyhow::Result<Option<i32>> {
    let Ok(stream) = UnixStream::connect(socket_path(data_dir)) else {
        return Ok(None);
    };
    let mut request = serde_json::to_vec(&Request { op: op.clone() })?;
    request.push(b'\n');
    (&stream).write_all(&request)?;
    let feeder = if op.reads_stdin() {
        let mut sink = stream.try_clone()?;
        Some(std::thread::spawn(move || -> std::io::Result<()> {
            std::io::copy(&mut std::io::stdin().lock(), &mut sink)?;
            sink.shutdown(std::net::Shutdown::Write)
        }))
    } else {
        stream.shutdown(std::net::Shutdown::Write)?;
        None
    };
    let mut code = None;
    let (mut stdout, mut stderr) = (std::io::stdout().lock(), std::io::stderr().lock());
    for line in BufReader::new(stream.take(u64::MAX)).lines() {
        let line = line?;
        if let Some(text) = line.strip_prefix("o ") {
            writeln!(stdout, "{text}")?;
        } else if let Some(text) = line.strip_prefix("e ") {
            writeln!(stderr, "{text}")?;
        } else if let Some(rest) = line.strip_prefix("x ") {
            let (n, message) = rest.split_once(' ').unwrap_or((rest, ""));
            if !message.is_empty() {
                writeln!(stderr, "error: {message}")?;
            }
            code = Some(n.parse().unwrap_or(1));
            break;
        }
    }
    if let Some(feeder) = feeder {
        // The server answered: what stdin still holds was not wanted.
        drop(feeder);
    }
    match code {
        Some(c) => Ok(Some(c)),
        None => anyhow::bail!(
            "the server on {} stopped before answering: see its log; the operation may or may not have been done",
            data_dir.display()
        ),
    }
}
