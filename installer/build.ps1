# Build the one-folder MedPriv Desktop app on Windows (PowerShell), the same steps as installer/build.sh:
#   app-only venv (.venv-build, no torch) -> PyInstaller with installer/medpriv.spec -> check_bundle.py -> zip archive.
# Run from any folder:  powershell -ExecutionPolicy Bypass -File installer\build.ps1
# Needs Python 3.10-3.12 (64-bit) from python.org on PATH as "py -3" or "python".
# Environment: MEDPRIV_BUILD_VENV (default .venv-build), MEDPRIV_DIST (default dist), MEDPRIV_WORK (build\pyinstaller),
# MEDPRIV_NO_ARCHIVE=1 to skip the zip.
$ErrorActionPreference = "Stop"
Set-Location (Join-Path $PSScriptRoot "..")
$venv = if ($env:MEDPRIV_BUILD_VENV) { $env:MEDPRIV_BUILD_VENV } else { ".venv-build" }
$dist = if ($env:MEDPRIV_DIST) { $env:MEDPRIV_DIST } else { "dist" }
$work = if ($env:MEDPRIV_WORK) { $env:MEDPRIV_WORK } else { "build\pyinstaller" }
$py = Join-Path $venv "Scripts\python.exe"

function Invoke-Checked([string]$exe, [string[]]$argv) {
    & $exe @argv
    if ($LASTEXITCODE -ne 0) { throw "$exe $($argv -join ' ') failed with exit code $LASTEXITCODE" }
}

if (-not (Test-Path $py)) {
    if (Get-Command py -ErrorAction SilentlyContinue) { Invoke-Checked "py" @("-3", "-m", "venv", $venv) }
    else { Invoke-Checked "python" @("-m", "venv", $venv) }
}
Invoke-Checked $py @("-m", "pip", "install", "-q", "--disable-pip-version-check", "--upgrade", "pip")
Invoke-Checked $py @("-m", "pip", "install", "-q", "--disable-pip-version-check", "-e", ".[installer]")

# spaCy imports torch whenever it is installed: refuse a build environment that has the training stack.
Invoke-Checked $py @("-c", "import importlib.util,sys; bad=[m for m in ('torch','monai','transformers','opacus','peft') if importlib.util.find_spec(m)]; sys.exit('training stack in the build environment: '+', '.join(bad)) if bad else None")

$env:TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS = ""
$env:HF_HUB_OFFLINE = "1"
$env:TRANSFORMERS_OFFLINE = "1"
Invoke-Checked $py @("-m", "PyInstaller", "--noconfirm", "--log-level", "WARN", "--distpath", $dist, "--workpath", $work, "installer\medpriv.spec")
Invoke-Checked $py @("installer\check_bundle.py", (Join-Path $dist "MedPriv"), "--json", (Join-Path $work "bundle_check.json"))

if ($env:MEDPRIV_NO_ARCHIVE -ne "1") {
    $version = & $py -c "import medpriv_desktop; print(medpriv_desktop.__version__)"
    $archive = Join-Path $dist "MedPriv-$version-windows-x64.zip"
    if (Test-Path $archive) { Remove-Item $archive }
    Compress-Archive -Path (Join-Path $dist "MedPriv") -DestinationPath $archive
    Write-Host "archive: $archive"
}
Write-Host "app: $(Join-Path $dist 'MedPriv\medpriv-desktop.exe')"
