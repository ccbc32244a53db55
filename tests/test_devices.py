"""Device listing and choice: pure resolution rules, and a real PulseAudio server."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pulse_env import CALL_SINK, MIC, ensure_pulse

from assist import cli
from assist.audio import devices
from assist.audio.devices import InputDevice, resolve_device
from assist.errors import AudioError

LISTED = [
    InputDevice("alsa_input.usb-Headset", "Headset", 1, "microphone", "pulse", default=True),
    InputDevice("alsa_output.pci.monitor", "Monitor of Speakers", 2, "call", "pulse", default=True),
    InputDevice("pulse", "ALSA", 32, "microphone", "portaudio", index=0),
    InputDevice("USB Headset: Audio (hw:1,0)", "ALSA", 1, "microphone", "portaudio", index=3),
]


def test_default_is_the_default_microphone_through_portaudios_pulse_device():
    choice = resolve_device(None, LISTED)
    assert (choice.portaudio, choice.pulse_source) == (0, "alsa_input.usb-Headset")


def test_a_piece_of_a_name_prefers_the_pulse_source_over_the_raw_device():
    assert resolve_device("Headset", LISTED).pulse_source == "alsa_input.usb-Headset"
    assert resolve_device("monitor", LISTED).pulse_source == "alsa_output.pci.monitor"


def test_an_index_is_a_portaudio_device():
    choice = resolve_device("3", LISTED)
    assert (choice.portaudio, choice.pulse_source, choice.channels) == (3, None, 1)


@pytest.mark.parametrize(
    ("spec", "message"),
    [("nothing", "no input device matches 'nothing'"), ("7", "no input device with index 7"),
     ("a", "ambiguous")],
)
def test_bad_device_names_say_what_to_do(spec, message):
    with pytest.raises(AudioError, match=message):
        resolve_device(spec, LISTED)


def test_a_pulse_source_without_the_alsa_bridge_names_the_missing_package():
    with pytest.raises(AudioError, match="libasound2-plugins"):
        resolve_device("Headset", LISTED[:2])


def test_channels_from_a_pactl_sample_spec():
    assert devices._channels("s16le 2ch 44100Hz") == 2
    assert devices._channels("float32le 1ch 48000Hz") == 1


def test_no_pulse_server_means_no_monitor(monkeypatch):
    monkeypatch.setattr(devices, "_pactl", lambda *a: None)
    assert devices.pulse_sources() is None
    assert devices.find_monitor() is None


def test_missing_portaudio_is_one_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import fails as without PortAudio
    with pytest.raises(AudioError, match="PortAudio"):
        devices.import_sounddevice()


def test_file_replay_code_never_imports_sounddevice():
    code = (
        "import sys, assist.cli, assist.audio.mic, assist.session_log\n"
        "assist.cli.build_parser()\n"
        "assert 'sounddevice' not in sys.modules, 'sounddevice imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_the_real_server_shows_microphone_and_call():
    ensure_pulse()
    found = {d.name: d for d in devices.list_input_devices()}
    assert found[MIC].role == "microphone" and found[MIC].default
    assert found[f"{CALL_SINK}.monitor"].role == "call" and found[f"{CALL_SINK}.monitor"].default
    assert devices.find_monitor() == f"{CALL_SINK}.monitor"
    assert devices.default_microphone() == MIC
    assert found["pulse"].backend == "portaudio"


def test_assist_devices_marks_which_is_which(capsys):
    ensure_pulse()
    assert cli.main(["devices"]) == 0
    out = capsys.readouterr().out
    mic_line = next(line for line in out.splitlines() if f" {MIC} " in line)
    call_line = next(line for line in out.splitlines() if f"{CALL_SINK}.monitor" in line)
    assert mic_line.lstrip().startswith("*") and "rep (microphone)" in mic_line
    assert call_line.lstrip().startswith("*") and "customer (call playback)" in call_line
