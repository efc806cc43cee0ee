#!/usr/bin/env bash
# Regenerates the audio Loa ships (not test fixtures): the spoken preamble every station puts
# before a test alert. Needs espeak-ng with the Vietnamese voice and ffmpeg.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ffmpeg="${LOA_FFMPEG:-ffmpeg}"
cd "$here"
# Two short low beeps, then the words, so a listener hears at once that this is not a siren.
espeak-ng -v vi -s 150 -w preamble.raw.wav \
  "Đây là bản tin thử nghiệm. Đây không phải là cảnh báo thật."
"$ffmpeg" -hide_banner -loglevel error -nostdin -y \
  -f lavfi -i "sine=frequency=440:sample_rate=22050:duration=0.25,volume=0.3,apad=pad_dur=0.15" \
  -f lavfi -i "sine=frequency=440:sample_rate=22050:duration=0.25,volume=0.3,apad=pad_dur=0.35" \
  -i preamble.raw.wav \
  -filter_complex "[0:a][1:a][2:a]concat=n=3:v=0:a=1[a]" -map "[a]" -ac 1 -ar 22050 -c:a pcm_s16le \
  -map_metadata -1 -fflags +bitexact -flags:a +bitexact test-preamble-vi.wav
rm -f preamble.raw.wav
