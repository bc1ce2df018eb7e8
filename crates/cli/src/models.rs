//! `atelier models catalog|get|machine|devices`: the app's model catalog, judged for this machine, its
//! one-click download, and the devices a model can run on here.

use std::io::Write;

use anyhow::{bail, Result};
use atelier_fusion::OutboundClient;
use atelier_store::Store;
use atelier_studio::catalog::{bytes, Catalog, CatalogView};
use atelier_studio::downloads;
use atelier_studio::DownloadProgress;
use clap::Subcommand;
use tokio_util::sync::CancellationToken;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Every catalog model with the memory it needs and whether it fits this machine.
    Catalog {
        #[arg(long)]
        json: bool,
    },
    /// Download a catalog model (by its id, from `models catalog`) into the models folder.
    Get {
        entry: String,
        /// Keep the current default model (by default the new one becomes the default).
        #[arg(long)]
        keep_default: bool,
    },
    /// What this machine offers a model: memory, disk, CPU, GPUs, NPUs.
    Machine {
        #[arg(long)]
        json: bool,
    },
    /// The devices a model can run on: the CPU, CUDA/Metal GPUs, and what OpenVINO reports (NPU, Intel
    /// GPUs), with the `--device` that picks each.
    Devices {
        #[arg(long)]
        json: bool,
    },
}

pub fn run(command: ModelsCommand) -> Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        match command {
            ModelsCommand::Catalog { json } => {
                let view = catalog(&Store::open_default().await?).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&view)?);
                } else {
                    print_catalog(&view);
                }
            }
            ModelsCommand::Get { entry, keep_default } => get(&Store::open_default().await?, &entry, !keep_default).await?,
            ModelsCommand::Machine { json } => {
                let view = catalog(&Store::open_default().await?).await?;
                if json {
                    println!("{}", serde_json::to_string_pretty(&view.machine)?);
                } else {
                    print_machine(&view);
                }
            }
            // Needs no library, so it works before the first run too.
            ModelsCommand::Devices { json } => {
                let machine = atelier_engine::machine::machine();
                if json {
                    println!("{}", serde_json::to_string_pretty(&machine)?);
                } else {
                    print_devices(&machine);
                }
            }
        }
        Ok(())
    })
}

async fn catalog(store: &Store) -> Result<CatalogView> {
    Ok(atelier_studio::catalog::current(store, &downloads::models_dir()?).await?)
}

fn print_catalog(view: &CatalogView) {
    println!("{:<30} {:<8} {:>9} {:>10}  {:<26} why", "id", "quant", "file", "needs", "fit");
    for item in &view.items {
        let mut fit = item.fit.verdict.label().to_string();
        if item.recommended {
            fit.push_str(" ★");
        }
        if item.installed.is_some() {
            fit.push_str(" (installed)");
        }
        println!(
            "{:<30} {:<8} {:>9} {:>10}  {:<26} {}{}",
            item.entry.id,
            item.entry.quantization,
            bytes(item.entry.size_bytes),
            bytes(item.estimate.total),
            fit,
            item.fit.reason,
            if item.fit.disk_ok { String::new() } else { format!("; not enough free disk ({} free)", item.fit.free_disk.map(bytes).unwrap_or_default()) },
        );
    }
    println!("\nMemory is for a {}-token context (Settings → context length changes it). ★ = the quantisation to take here.", view.items.first().map(|i| i.estimate.context_length).unwrap_or_default());
    if let Some(first) = &view.first_run {
        println!("`atelier models get {first}` downloads the recommended Mistral model and makes it the default.");
    }
}

fn print_machine(view: &CatalogView) {
    let m = &view.machine;
    let or_unknown = |n: Option<u64>| n.map(bytes).unwrap_or_else(|| "unknown".into());
    println!("system   {}", m.os);
    println!("memory   {} ({} free now)", or_unknown(m.total_memory), or_unknown(m.available_memory));
    println!("disk     {} free in the models folder", or_unknown(view.items.first().and_then(|i| i.fit.free_disk)));
    println!("cpu      {} · {} threads · kernels {} · {}", m.cpu.name.as_deref().unwrap_or("unknown CPU"), m.cpu.threads, m.cpu.kernels, m.cpu.features.join(" "));
    if m.gpus.is_empty() {
        println!("gpu      none: {}", m.gpu_note.as_deref().unwrap_or(""));
    }
    for gpu in &m.gpus {
        println!("gpu      {} ({}){}", gpu.name, gpu.backend, gpu.memory.map(|b| format!(", {}", bytes(b))).unwrap_or_default());
    }
    println!("npu      {}", m.npu.note);
    println!("openvino {}", openvino_line(&m.openvino));
}

fn openvino_line(openvino: &atelier_engine::machine::OpenVino) -> String {
    if openvino.devices.is_empty() {
        return format!("none: {}", openvino.note.as_deref().unwrap_or("no devices"));
    }
    let devices: Vec<&str> = openvino.devices.iter().map(|d| d.id.as_str()).collect();
    format!("{} ({})", devices.join(", "), openvino.version.as_deref().unwrap_or("version unknown"))
}

fn print_devices(m: &atelier_engine::machine::Machine) {
    let row = |id: &str, name: &str, pick: &str| println!("  {id:<8} {name:<44} {pick}");
    println!("GGUF models (Atelier's engine):");
    row("CPU", &format!("{} · {} threads · {} kernels", m.cpu.name.as_deref().unwrap_or("unknown CPU"), m.cpu.threads, m.cpu.kernels), "--device cpu");
    for gpu in &m.gpus {
        row(&gpu.backend.to_uppercase(), &gpu.name, &format!("--device {}", gpu.backend));
    }
    if m.gpus.is_empty() {
        println!("  no GPU: {}", m.gpu_note.as_deref().unwrap_or(""));
    }
    println!("OpenVINO models (a folder with openvino_model.xml; docs/npu.md):");
    for device in &m.openvino.devices {
        let family = device.id.split('.').next().unwrap_or(&device.id).to_lowercase();
        row(&device.id, device.name.as_deref().unwrap_or(""), &format!("--device {family}"));
    }
    match (&m.openvino.library, &m.openvino.note) {
        (Some(library), _) => println!("  runtime {} ({library})", m.openvino.version.as_deref().unwrap_or("version unknown")),
        (None, Some(note)) => println!("  none: {note}"),
        (None, None) => {}
    }
    if !m.npu.used {
        println!("NPU: {}", m.npu.note);
    }
}

async fn get(store: &Store, id: &str, make_default: bool) -> Result<()> {
    let entry = Catalog::builtin().get(id)?.clone();
    let client = OutboundClient::new(std::time::Duration::from_secs(10));
    let ledger = atelier_fusion::persist::StoreLedger::new(store.clone(), None);
    let client = client.with_ledger(ledger.clone());
    let cancel = CancellationToken::new();
    let interrupt = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            interrupt.cancel();
        }
    });
    let mirror = downloads::mirror_from_env();
    eprintln!("downloading {} {} ({}) from {}", entry.name, entry.quantization, bytes(entry.size_bytes), downloads::source_url(&entry, mirror.as_deref()));
    let result = downloads::fetch(&client, store, &entry, &downloads::models_dir()?, mirror.as_deref(), &cancel, |progress| match progress {
        DownloadProgress::Receiving { downloaded, total, bytes_per_second, eta_seconds } => {
            let percent = total.filter(|t| *t > 0).map(|t| format!("{:>3}%", downloaded * 100 / t)).unwrap_or_default();
            let eta = eta_seconds.map(|s| format!(", {} left", minutes(s))).unwrap_or_default();
            eprint!("\r{percent} {} of {} at {}/s{eta}    ", bytes(downloaded), total.map(bytes).unwrap_or_else(|| "?".into()), bytes(bytes_per_second as u64));
            let _ = std::io::stderr().flush();
        }
        DownloadProgress::Verifying => eprint!("\nverifying… "),
        DownloadProgress::Verified { check } => eprintln!("{}", check.describe()),
    })
    .await;
    // The ledger says how the download's requests ended before the process exits.
    ledger.flush().await;
    let (record, _) = match result {
        Ok(done) => done,
        Err(atelier_studio::StudioError::Paused) => bail!("\ndownload paused; run the same command again to resume"),
        Err(e) => return Err(e.into()),
    };
    if make_default {
        store.models().set_default(record.id).await?;
    }
    println!("{}{}: {}", record.name, if make_default { " (now the default model)" } else { "" }, record.path);
    Ok(())
}

fn minutes(seconds: f64) -> String {
    if seconds < 90.0 {
        format!("{seconds:.0} s")
    } else {
        format!("{:.0} min", seconds / 60.0)
    }
}
