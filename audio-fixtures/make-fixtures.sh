#!/usr/bin/env bash
# Regenerates the committed audio fixtures. Deterministic except speech-vi.wav,
# whose bytes depend on the installed espeak-ng version.
# Needs: ffmpeg (or LOA_FFMPEG=/path/to/ffmpeg), espeak-ng with the Vietnamese voice.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ffmpeg="${LOA_FFMPEG:-ffmpeg}"
command -v "$ffmpeg" >/dev/null || { echo "make-fixtures: ffmpeg not found (apt-get install ffmpeg, or set LOA_FFMPEG)" >&2; exit 1; }
command -v espeak-ng >/dev/null || { echo "make-fixtures: espeak-ng not found (apt-get install espeak-ng)" >&2; exit 1; }

# Strip encoder tags/metadata so the bytes do not change between ffmpeg builds.
bitexact=(-map_metadata -1 -fflags +bitexact -flags:a +bitexact)
ff() { "$ffmpeg" -hide_banner -loglevel error -nostdin -y "$@"; }

cd "$here"

# 1 kHz sine at -20 dBFS peak, 3 s, 22.05 kHz mono: quiet and not the on-air rate,
# so preparing it must both resample and raise the level.
ff -f lavfi -i "sine=frequency=1000:sample_rate=22050:duration=3" \
  -af "volume=0.2" -ac 1 -c:a pcm_s16le "${bitexact[@]}" tone-3s.wav

# Vietnamese speech (Northern voice), espeak-ng's native 22.05 kHz mono. Its peaks
# are near 0 dBFS with a high crest factor, so plain linear loudnorm cannot reach
# -16 LUFS without clipping: this exercises the limiter path of prepareAudio.
espeak-ng -v vi -s 165 -w speech-vi.raw.wav \
  "Thông báo của Ủy ban nhân dân phường Hòa Bình về lịch tiêm chủng."
ff -i speech-vi.raw.wav -c:a pcm_s16le "${bitexact[@]}" speech-vi.wav
rm -f speech-vi.raw.wav

# 10 s stereo 44.1 kHz MP3: a slow sine sweep over pink noise, different left and
# right, to prove decoding, downmixing and resampling.
ff -f lavfi -i "aevalsrc='0.25*sin(2*PI*(150+40*t)*t)|0.25*sin(2*PI*(300+20*t)*t)':s=44100:d=10" \
  -f lavfi -i "anoisesrc=color=pink:amplitude=0.08:seed=7:sample_rate=44100:duration=10" \
  -filter_complex "[1:a]pan=stereo|c0=c0|c1=c0[n];[0:a][n]amix=inputs=2,volume=2[m]" \
  -map "[m]" -c:a libmp3lame -b:a 48k "${bitexact[@]}" music-10s.mp3

# Chimes are stored already in the on-air format (48 kHz mono s16le) so they can be
# played without preparation. Each note: sine with exponential decay.
note() { # freq start len amp -> aevalsrc term
  echo "$4*sin(2*PI*$1*t)*exp(-5*(t-$2))*between(t,$2,$2+$3)"
}
chime() { # name duration expr
  ff -f lavfi -i "aevalsrc='$3':s=48000:d=$2" -ac 1 -c:a pcm_s16le "${bitexact[@]}" "$1"
}
# normal: "ding-dong" E5 -> C5
chime chime-normal.wav 0.7 "$(note 659.25 0 0.35 0.4)+$(note 523.25 0.35 0.35 0.4)"
# priority: three rising notes C5 E5 G5
chime chime-priority.wav 0.9 "$(note 523.25 0 0.3 0.45)+$(note 659.25 0.3 0.3 0.45)+$(note 783.99 0.6 0.3 0.45)"
# emergency: fast alternating 880/660 Hz, louder, no decay (siren-like)
chime chime-emergency.wav 1.2 "0.6*sin(2*PI*(770+110*sgn(sin(2*PI*3.333*t)))*t)"

# Inputs that must be rejected with a clear error.
LC_ALL=C awk 'BEGIN{srand(20240501); for(i=0;i<3000;i++) printf "%c", int(rand()*256)}' > corrupt.mp3
: > empty.wav
printf 'Đây không phải là âm thanh. This is not audio.\n' > not-audio.txt

ls -l "$here"
