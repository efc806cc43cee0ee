/**
 * The one catalogue of user-facing text for `loa` and `loa-station`. Vietnamese when the
 * locale (LC_ALL, then LC_MESSAGES, then LANG) starts with `vi`, English otherwise.
 * Placeholders are `{name}`. Spoken texts (what residents hear) are Vietnamese in every locale.
 */
export type Lang = 'en' | 'vi';
type Entry = { en: string; vi: string };

const cli = {
  'cli.description': {
    en: 'Loa central controller: fleet, keys, broker, schedules, announcements, alerts, reports',
    vi: 'Bộ điều khiển trung tâm Loa: đài, khóa, broker, lịch phát, thông báo, cảnh báo, báo cáo',
  },
  'error.invalid': { en: '{path}: {reason}', vi: '{path}: {reason}' },

  // commands
  'cmd.keys': { en: 'signing keys (Ed25519)', vi: 'khóa ký (Ed25519)' },
  'cmd.keys.init': {
    en: 'create your signing key pair: the private key in your own key directory, the public key in the fleet',
    vi: 'tạo cặp khóa ký của bạn: khóa bí mật trong thư mục khóa riêng, khóa công khai vào hồ sơ các đài',
  },
  'cmd.keys.list': { en: 'list signing keys and what they may sign', vi: 'liệt kê khóa ký và quyền ký' },
  'cmd.broker': { en: 'MQTT broker (mosquitto) configuration', vi: 'cấu hình broker MQTT (mosquitto)' },
  'cmd.broker.config': { en: 'write mosquitto.conf, password file and ACL for the fleet', vi: 'ghi mosquitto.conf, tệp mật khẩu và ACL cho các đài' },
  'cmd.provision': { en: 'write station.yaml for a ward box (rotates its broker password)', vi: 'ghi station.yaml cho một đài (đổi mật khẩu broker của đài)' },
  'cmd.schedule': { en: 'programme schedules', vi: 'lịch phát sóng' },
  'cmd.schedule.validate': { en: 'check schedule files', vi: 'kiểm tra tệp lịch' },
  'cmd.schedule.push': { en: 'sign and publish schedules to their stations', vi: 'ký và gửi lịch tới các đài' },
  'cmd.schedule.show': { en: 'print the compiled schedule of each station (JSON)', vi: 'in lịch đã biên dịch của từng đài (JSON)' },
  'cmd.schedule.next': { en: 'list the next fire times per station', vi: 'liệt kê các lần phát tiếp theo của từng đài' },
  'cmd.schedule.diff': { en: 'compare schedule files with what stations have applied', vi: 'so sánh tệp lịch với lịch các đài đang áp dụng' },
  'cmd.announce': { en: 'broadcast an announcement (audio file or --text)', vi: 'phát thông báo (tệp âm thanh hoặc --text)' },
  'cmd.alert': {
    en: 'emergency alert: --test sends now, a live alert is drafted for approval',
    vi: 'cảnh báo khẩn cấp: --test gửi ngay, cảnh báo thật cần người thứ hai phê duyệt',
  },
  'cmd.alert.approve': { en: 'second signature on a live alert draft, then send it', vi: 'ký lần hai bản nháp cảnh báo rồi gửi' },
  'cmd.alert.cancel': { en: 'cancel an alert and broadcast the scripted correction', vi: 'hủy cảnh báo và phát thông báo đính chính' },
  'cmd.collect': {
    en: 'run the central collector (state, telemetry, acks into the central database)',
    vi: 'chạy bộ thu trung tâm (trạng thái, đo lường, xác nhận vào cơ sở dữ liệu trung tâm)',
  },
  'cmd.stations': { en: 'status of every station', vi: 'trạng thái các đài' },
  'cmd.broadcasts': { en: 'recent announcements and alerts with delivery counts', vi: 'thông báo và cảnh báo gần đây kèm số đài đã phát' },
  'cmd.report': { en: 'delivery report per broadcast and station', vi: 'báo cáo phát sóng theo bản tin và đài' },

  // arguments and options
  'arg.keyName': { en: 'key id ([a-z0-9-])', vi: 'mã khóa ([a-z0-9-])' },
  'arg.station': { en: 'station id', vi: 'mã đài' },
  'arg.scheduleFiles': { en: 'schedule YAML files', vi: 'các tệp lịch YAML' },
  'arg.audio': { en: 'audio file (any format ffmpeg reads)', vi: 'tệp âm thanh (định dạng ffmpeg đọc được)' },
  'arg.draft': { en: 'draft file printed by `loa alert`', vi: 'tệp nháp do `loa alert` in ra' },
  'arg.broadcastId': { en: 'id of the alert to cancel', vi: 'mã cảnh báo cần hủy' },
  'opt.fleet': { en: 'fleet file (default: $LOA_FLEET, then ./fleet.yaml)', vi: 'tệp cấu hình đài (mặc định: $LOA_FLEET, rồi ./fleet.yaml)' },
  'opt.help': { en: 'show help for this command', vi: 'xem hướng dẫn lệnh này' },
  'opt.version': { en: 'show the version', vi: 'xem phiên bản' },
  'opt.json': { en: 'machine-readable JSON output', vi: 'xuất JSON cho máy đọc' },
  'opt.force': { en: 'overwrite an existing key', vi: 'ghi đè khóa đã có' },
  'opt.out': { en: 'output directory', vi: 'thư mục xuất' },
  'opt.port': { en: 'port of the central listener (central user only)', vi: 'cổng nghe trung tâm (chỉ người dùng trung tâm)' },
  'opt.bind': { en: 'listener bind address', vi: 'địa chỉ lắng nghe' },
  'opt.tlsPort': { en: 'TLS listener port', vi: 'cổng TLS' },
  'opt.user': { en: 'unix user mosquitto runs as (`user` directive)', vi: 'người dùng hệ thống chạy mosquitto (lệnh `user`)' },
  'opt.noTls': { en: 'no TLS listener', vi: 'không mở cổng TLS' },
  'opt.station': { en: 'only these stations (comma-separated)', vi: 'chỉ các đài này (phân cách bằng dấu phẩy)' },
  'opt.key': { en: 'signing key id', vi: 'mã khóa ký' },
  'opt.approveKey': { en: "your signing key (not the drafter's)", vi: 'khóa ký của bạn (khác người soạn)' },
  'opt.reason': { en: 'reason recorded with the cancel', vi: 'lý do hủy' },
  'opt.from': { en: 'start time (YYYY-MM-DD[ HH:MM], HH:MM or ISO)', vi: 'thời điểm bắt đầu (YYYY-MM-DD[ HH:MM], HH:MM hoặc ISO)' },
  'opt.toDate': { en: 'end date or time (a date includes the whole day)', vi: 'ngày hoặc giờ kết thúc (ngày tính cả ngày)' },
  'opt.count': { en: 'how many fire times per station (default 5)', vi: 'số lần phát mỗi đài (mặc định 5)' },
  'opt.text': { en: 'Vietnamese text to speak (espeak-ng)', vi: 'văn bản tiếng Việt để đọc (espeak-ng)' },
  'cmd.control': { en: 'operational command to stations: volume, stop, resume, rebirth, resync', vi: 'lệnh vận hành tới các đài: volume, stop, resume, rebirth, resync' },
  'arg.controlAction': { en: 'volume | stop | resume | rebirth | resync', vi: 'volume | stop | resume | rebirth | resync' },
  'opt.controlZone': { en: 'only this zone (volume)', vi: 'chỉ vùng loa này (volume)' },
  'opt.correctionAudio': { en: 'recorded correction to air instead of synthesised speech', vi: 'bản ghi đính chính thay cho giọng đọc tổng hợp' },
  'control.needVolume': { en: 'control volume needs --volume 0-100', vi: 'lệnh volume cần --volume 0-100' },
  'control.action': {
    en: 'unknown control action {value}: expected volume, stop, resume, rebirth or resync',
    vi: 'lệnh không hợp lệ {value}: cần volume, stop, resume, rebirth hoặc resync',
  },
  'opt.to': { en: 'targets: station ids, group ids or all (comma-separated)', vi: 'đích: mã đài, mã cụm hoặc all (phân cách bằng dấu phẩy)' },
  'opt.at': { en: 'air at this time (HH:MM, YYYY-MM-DD HH:MM or ISO)', vi: 'phát lúc (HH:MM, YYYY-MM-DD HH:MM hoặc ISO)' },
  'opt.priority': { en: 'priority level', vi: 'mức ưu tiên' },
  'opt.zones': { en: 'only these zones (comma-separated)', vi: 'chỉ các cụm loa này (phân cách bằng dấu phẩy)' },
  'opt.repeat': { en: 'play N times (1-20)', vi: 'phát N lần (1-20)' },
  'opt.volume': { en: 'volume 0-100', vi: 'âm lượng 0-100' },
  'opt.chime': { en: 'play the chime first', vi: 'phát nhạc hiệu trước' },
  'opt.interrupt': { en: 'interrupt what is playing instead of waiting', vi: 'ngắt nội dung đang phát thay vì chờ' },
  'opt.title': { en: 'title for logs and reports', vi: 'tiêu đề cho nhật ký và báo cáo' },
  'opt.wait': { en: 'wait up to SECONDS for stations to confirm', vi: 'chờ tối đa SECONDS giây để các đài xác nhận' },
  'opt.test': {
    en: 'test alert: one signature, sent at once; stations play it as a priority item after their own "this is a test"',
    vi: 'cảnh báo thử nghiệm: một chữ ký, gửi ngay; các đài phát như bản tin ưu tiên, sau lời báo thử nghiệm của đài',
  },
  'opt.clientId': { en: 'MQTT client id (default from the fleet file)', vi: 'mã client MQTT (mặc định theo tệp cấu hình)' },
  'opt.verbose': { en: 'log every batch', vi: 'ghi nhật ký từng lô' },
  'opt.watch': { en: 'refresh every 2 seconds', vi: 'làm mới mỗi 2 giây' },
  'opt.limit': { en: 'how many (default 50)', vi: 'số lượng (mặc định 50)' },
  'opt.grace': { en: 'seconds late before "confirmed late" (default 60)', vi: 'số giây trễ trước khi tính là "phát trễ" (mặc định 60)' },
  'opt.csv': { en: 'CSV output', vi: 'xuất CSV' },
  'option.int': { en: '{option} expects a whole number from {min} to {max}, got "{value}"', vi: '{option} cần số nguyên từ {min} đến {max}, nhận được "{value}"' },
  'option.zone': { en: 'zone id "{value}" is invalid: expected [a-z0-9-]{1,64}', vi: 'mã cụm loa "{value}" không hợp lệ: cần [a-z0-9-]{1,64}' },

  // config files
  'config.unreadable': { en: '{file}: cannot read ({reason})', vi: '{file}: không đọc được ({reason})' },
  'config.invalid': { en: '{file}: {key} (line {line}): {expected}', vi: '{file}: {key} (dòng {line}): {expected}' },
  'fleet.missing': { en: 'fleet file {file} not found: pass --fleet FILE or set LOA_FLEET', vi: 'không tìm thấy tệp cấu hình {file}: dùng --fleet FILE hoặc đặt LOA_FLEET' },
  'fleet.expectedTimezone': { en: 'expected an IANA time zone such as Asia/Ho_Chi_Minh', vi: 'cần múi giờ IANA, ví dụ Asia/Ho_Chi_Minh' },
  'fleet.reservedId': { en: '"all" is reserved for every station', vi: '"all" được dành cho toàn bộ đài' },
  'fleet.duplicateId': { en: 'id "{id}" is already used by {before}', vi: 'mã "{id}" đã được dùng ở {before}' },
  'fleet.duplicateZone': { en: 'zone id "{id}" appears twice', vi: 'mã cụm loa "{id}" bị trùng' },
  'fleet.unknownGroup': { en: 'unknown group "{id}"; expected one of: {known}', vi: 'cụm "{id}" không tồn tại; cần một trong: {known}' },
  'fleet.stationIsCentralUser': { en: 'a station id must differ from broker.username', vi: 'mã đài phải khác broker.username' },
  'fleet.defaultKeyNotSigner': { en: 'expected a key listed under signers', vi: 'cần một khóa có trong signers' },
  'fleet.unknownStation': { en: 'unknown station "{id}"; known: {known}', vi: 'không có đài "{id}"; các đài: {known}' },

  // keys
  'keys.badName': { en: 'key name "{name}" is invalid: expected [a-z0-9-]{1,64}', vi: 'tên khóa "{name}" không hợp lệ: cần [a-z0-9-]{1,64}' },
  'keys.exists': {
    en: '{file} already exists (use --force to replace it; stations trusting the old key will reject new commands)',
    vi: '{file} đã tồn tại (dùng --force để thay; các đài tin khóa cũ sẽ từ chối lệnh mới)',
  },
  'keys.created': { en: 'created key {id}\nprivate key: {file} (mode 0600)\npublic key: {pub}', vi: 'đã tạo khóa {id}\nkhóa bí mật: {file} (quyền 0600)\nkhóa công khai: {pub}' },
  'keys.missingPublic': { en: 'no public key for {id} ({file}): run `loa keys init {id}`', vi: 'không có khóa công khai của {id} ({file}): chạy `loa keys init {id}`' },
  'keys.missingPrivate': { en: 'no private key for {id} at {file}', vi: 'không có khóa bí mật của {id} tại {file}' },
  'keys.noneForType': { en: 'no signing key allowed for {type}: pass --key or add one under signers', vi: 'không có khóa được phép ký {type}: dùng --key hoặc thêm vào signers' },
  'keys.notAllowed': { en: 'key {id} may not sign {type} (fleet signers policy)', vi: 'khóa {id} không được phép ký {type} (chính sách signers)' },
  'keys.tooOpen': { en: '{file} is readable by others: chmod 600 it', vi: '{file} có thể bị người khác đọc: chạy chmod 600' },
  'keys.mismatch': { en: 'private key {id} does not match its public key file', vi: 'khóa bí mật {id} không khớp tệp khóa công khai' },

  // broker
  'broker.wrote': { en: 'wrote {file}', vi: 'đã ghi {file}' },
  'broker.tlsGenerated': {
    en: 'TLS listener enabled with a generated CA and server certificate (CA: {ca}); set broker.tls.ca in the fleet file to it',
    vi: 'đã bật TLS với CA và chứng chỉ máy chủ tự tạo (CA: {ca}); đặt broker.tls.ca trong tệp cấu hình',
  },
  'broker.tlsCommented': {
    en: 'openssl not found: the TLS listener is written commented out; create certificates and enable it',
    vi: 'không có openssl: cổng TLS được ghi ở dạng chú thích; hãy tạo chứng chỉ rồi bật',
  },
  'broker.ownership': {
    en: 'mosquitto must be able to read {dir}/passwd, passwd-central, acl and tls/server.key (chown them to the mosquitto user)',
    vi: 'mosquitto phải đọc được {dir}/passwd, passwd-central, acl và tls/server.key (chown cho người dùng mosquitto)',
  },
  'broker.noCentralPassword': {
    en: 'central broker password file {file} is missing: run `loa broker config` first',
    vi: 'thiếu tệp mật khẩu broker trung tâm {file}: chạy `loa broker config` trước',
  },
  'broker.unreachable': { en: 'cannot connect to the broker ({urls}): {reason}', vi: 'không kết nối được broker ({urls}): {reason}' },

  // provision
  'provision.noSigners': { en: '{file}: signers is empty: a station would trust no key', vi: '{file}: signers trống: đài sẽ không tin khóa nào' },
  'provision.noCa': { en: 'broker CA {file} not found: run `loa broker config` or fix broker.tls.ca', vi: 'không thấy CA {file}: chạy `loa broker config` hoặc sửa broker.tls.ca' },
  'provision.wrote': { en: 'wrote {file} for {station} (new broker password)', vi: 'đã ghi {file} cho {station} (mật khẩu broker mới)' },
  'provision.reload': {
    en: 'password file {file} rewritten: the broker must reload it (systemctl reload mosquitto, or kill -HUP)',
    vi: 'đã ghi lại tệp mật khẩu {file}: broker cần nạp lại (systemctl reload mosquitto, hoặc kill -HUP)',
  },
  'provision.noBrokerDir': {
    en: 'no broker config found: run `loa broker config --out DIR` so the broker learns the new password',
    vi: 'chưa có cấu hình broker: chạy `loa broker config --out DIR` để broker nhận mật khẩu mới',
  },

  // targets, audio, time
  'targets.empty': { en: '--to names no target', vi: '--to không có đích nào' },
  'targets.unknown': { en: 'unknown target "{id}"; expected one of: {known}', vi: 'đích "{id}" không tồn tại; cần một trong: {known}' },
  'audio.oneOf': { en: 'give either an audio file or --text, not both', vi: 'chỉ dùng một trong hai: tệp âm thanh hoặc --text' },
  'audio.emptyText': { en: '--text is empty', vi: '--text trống' },
  'media.missing': { en: 'audio file {file} not found', vi: 'không tìm thấy tệp âm thanh {file}' },
  'media.empty': { en: 'audio file {file} is empty', vi: 'tệp âm thanh {file} trống' },
  'media.tooLarge': { en: 'audio file {file} is larger than {max} bytes', vi: 'tệp âm thanh {file} lớn hơn {max} byte' },
  'media.notStored': { en: 'media {sha256} is not in the central media store', vi: 'tệp {sha256} không có trong kho âm thanh trung tâm' },
  'speech.missingEspeak': { en: 'espeak-ng is not installed: install it with `apt-get install espeak-ng`', vi: 'chưa cài espeak-ng: cài bằng `apt-get install espeak-ng`' },
  'speech.missingFfmpeg': { en: 'ffmpeg is not installed: install it with `apt-get install ffmpeg`', vi: 'chưa cài ffmpeg: cài bằng `apt-get install ffmpeg`' },
  'speech.failed': { en: 'speech synthesis failed: {reason}', vi: 'tổng hợp giọng nói thất bại: {reason}' },
  'speech.badVoice': { en: 'voice "{voice}" is invalid', vi: 'giọng "{voice}" không hợp lệ' },
  'time.invalid': {
    en: '{option} "{value}": expected HH:MM, YYYY-MM-DD[ HH:MM] or an ISO time with offset',
    vi: '{option} "{value}": cần HH:MM, YYYY-MM-DD[ HH:MM] hoặc giờ ISO có múi giờ',
  },

  // announce / alert
  'announce.priority': {
    en: '--priority must be normal or priority (emergency is `loa alert`), got {value}',
    vi: '--priority phải là normal hoặc priority (khẩn cấp dùng `loa alert`), nhận {value}',
  },
  'send.sent': { en: 'sent {type} {id} to {count} station(s) via {topics}', vi: 'đã gửi {type} {id} tới {count} đài qua {topics}' },
  'alert.needsTo': { en: 'missing --to TARGETS', vi: 'thiếu --to TARGETS' },
  'alert.drafted': {
    en: 'live alert {id} drafted: {file}\nit needs {needed} more signature(s): loa alert approve {file} --key OTHER_KEY',
    vi: 'đã soạn cảnh báo thật {id}: {file}\ncần thêm {needed} chữ ký: loa alert approve {file} --key KHOA_KHAC',
  },
  'alert.prefetchFailed': {
    en: "note: the draft's clip could not be sent ahead to the stations ({reason}); they fetch it when the alert is approved",
    vi: 'lưu ý: chưa gửi trước được âm thanh của bản nháp tới các trạm ({reason}); các trạm sẽ tải khi cảnh báo được phê duyệt',
  },
  'alert.noDraft': { en: 'draft {file} not found', vi: 'không tìm thấy bản nháp {file}' },
  'alert.badDraft': { en: 'draft {file} is not valid: {reason}', vi: 'bản nháp {file} không hợp lệ: {reason}' },
  'alert.draftSignerNotAllowed': { en: 'draft is signed by {key}, which may not sign alerts', vi: 'bản nháp được ký bởi {key}, khóa không được phép ký cảnh báo' },
  'alert.draftTampered': {
    en: 'signature by {key} does not verify: the draft was changed after signing; refusing to approve',
    vi: 'chữ ký của {key} không hợp lệ: bản nháp đã bị sửa sau khi ký; từ chối phê duyệt',
  },
  'alert.draftExpired': { en: 'draft {id} expired at {at}: draft a new alert', vi: 'bản nháp {id} đã hết hạn lúc {at}: hãy soạn cảnh báo mới' },
  'alert.approveNeedsKey': { en: 'approve needs --key (your own key)', vi: 'phê duyệt cần --key (khóa của bạn)' },
  'alert.sameKey': { en: 'key {key} has already signed: a second person must approve with a different key', vi: 'khóa {key} đã ký: người thứ hai phải phê duyệt bằng khóa khác' },
  'alert.approving': {
    en: 'approving {type} {id} "{title}" (test: {test}) for {target}, valid until {expires}',
    vi: 'phê duyệt {type} {id} "{title}" (thử nghiệm: {test}) cho {target}, hiệu lực đến {expires}',
  },
  'alert.unknownBroadcast': { en: 'no alert {id} in the central database', vi: 'không có cảnh báo {id} trong cơ sở dữ liệu trung tâm' },
  'alert.cancelTitle': { en: 'cancel {id}', vi: 'hủy {id}' },

  // waiting for delivery
  'wait.progress': { en: '{confirmed}/{total} started, {failed} failed', vi: '{confirmed}/{total} đã phát, {failed} lỗi' },
  'wait.noAck': { en: 'no answer', vi: 'không phản hồi' },
  'wait.partial': { en: 'not confirmed: {stations}', vi: 'chưa xác nhận: {stations}' },

  // schedule
  'schedule.badCron': { en: 'invalid cron expression: {reason}', vi: 'biểu thức cron không hợp lệ: {reason}' },
  'schedule.unknownZone': { en: 'zone "{zone}" does not exist at {stations}', vi: 'cụm loa "{zone}" không có ở {stations}' },
  'schedule.duplicateItem': { en: 'item id "{id}" reaches {station} twice (also {other})', vi: 'mục "{id}" tới đài {station} hai lần (cả {other})' },
  'schedule.valid': { en: 'valid: {items} item(s) for {stations} station(s)', vi: 'hợp lệ: {items} mục cho {stations} đài' },
  'schedule.pushed': { en: 'pushed schedule v{version} to {station} ({items} item(s))', vi: 'đã gửi lịch v{version} tới {station} ({items} mục)' },
  'diff.in-sync': { en: 'in sync', vi: 'khớp' },
  'diff.changed': { en: 'file changed', vi: 'tệp đã đổi' },
  'diff.not-pushed': { en: 'never pushed', vi: 'chưa gửi' },
  'diff.not-applied': { en: 'not applied yet', vi: 'chưa áp dụng' },

  // collector
  'collect.connected': { en: 'collector connected to {urls}', vi: 'bộ thu đã kết nối {urls}' },
  'collect.offline': { en: 'collector offline, reconnecting', vi: 'bộ thu mất kết nối, đang kết nối lại' },
  'collect.invalid': { en: 'ignored invalid message on {topic}: {reason}', vi: 'bỏ qua tin không hợp lệ trên {topic}: {reason}' },
  'collect.batch': { en: 'wrote {count} message(s)', vi: 'đã ghi {count} tin' },
  'collect.writeFailed': { en: 'database write failed, will retry: {reason}', vi: 'ghi cơ sở dữ liệu lỗi, sẽ thử lại: {reason}' },
  'collect.stopped': {
    en: 'collector stopped: {acks} acks ({duplicates} duplicates, {conflicts} conflicts), {states} states, {telemetry} telemetry, {invalid} invalid, {receipts} receipts',
    vi: 'bộ thu dừng: {acks} xác nhận ({duplicates} trùng, {conflicts} mâu thuẫn), {states} trạng thái, {telemetry} đo lường, {invalid} không hợp lệ, {receipts} biên nhận',
  },
  'collect.conflict': {
    en: 'CONFLICT: station {station} sent ack {seq} (store {db}) again with different content; both are kept in ack_conflicts',
    vi: 'MÂU THUẪN: đài {station} gửi lại xác nhận {seq} (kho {db}) với nội dung khác; cả hai được lưu trong ack_conflicts',
  },
  'collect.maintenance': {
    en: 'maintenance: cleared {cleared} retained clip(s), kept {kept}; pruned {pruned}',
    vi: 'bảo trì: xóa {cleared} tệp âm thanh lưu trên broker, giữ {kept}; dọn {pruned}',
  },
  'collect.maintenanceFailed': { en: 'maintenance failed, will retry tomorrow: {reason}', vi: 'bảo trì lỗi, sẽ thử lại ngày mai: {reason}' },

  // stations, reports
  'stations.online': { en: 'online', vi: 'trực tuyến' },
  'stations.offline': { en: 'OFFLINE', vi: 'MẤT KẾT NỐI' },
  'stations.unknown': { en: 'unknown', vi: 'chưa rõ' },
  'report.test': { en: 'TEST', vi: 'THỬ NGHIỆM' },
  'status.confirmed': { en: 'confirmed', vi: 'đã phát' },
  'status.confirmed-late': { en: 'confirmed late', vi: 'phát trễ' },
  'status.started': { en: 'started', vi: 'đang phát' },
  'status.failed': { en: 'failed', vi: 'lỗi' },
  'status.preempted': { en: 'preempted', vi: 'bị ngắt' },
  'status.missed': { en: 'missed', vi: 'bỏ lỡ' },
  'status.cancelled': { en: 'cancelled', vi: 'đã hủy' },
  'status.not-confirmed': { en: 'not confirmed', vi: 'chưa xác nhận' },
  'status.unreachable': { en: 'unreachable', vi: 'không liên lạc được' },
  'status.pending': { en: 'pending', vi: 'chờ phát' },
  'col.station': { en: 'STATION', vi: 'ĐÀI' },
  'col.name': { en: 'NAME', vi: 'TÊN' },
  'col.online': { en: 'ONLINE', vi: 'KẾT NỐI' },
  'col.lastSeen': { en: 'LAST SEEN', vi: 'LẦN CUỐI' },
  'col.epoch': { en: 'EPOCH', vi: 'EPOCH' },
  'col.nowPlaying': { en: 'NOW PLAYING', vi: 'ĐANG PHÁT' },
  'col.schedule': { en: 'SCHEDULE WANT/HAVE', vi: 'LỊCH CẦN/CÓ' },
  'col.clock': { en: 'CLOCK', vi: 'LỆCH GIỜ' },
  'col.disk': { en: 'DISK FREE', vi: 'ĐĨA TRỐNG' },
  'col.outbox': { en: 'OUTBOX', vi: 'HÀNG ĐỢI' },
  'col.lastError': { en: 'LAST ERROR', vi: 'LỖI GẦN NHẤT' },
  'col.state': { en: 'STATE', vi: 'TRẠNG THÁI' },
  'col.status': { en: 'STATUS', vi: 'TRẠNG THÁI' },
  'col.at': { en: 'AT', vi: 'LÚC' },
  'col.reason': { en: 'REASON', vi: 'LÝ DO' },
  'col.broadcast': { en: 'BROADCAST', vi: 'BẢN TIN' },
  'col.title': { en: 'TITLE', vi: 'TIÊU ĐỀ' },
  'col.planned': { en: 'PLANNED', vi: 'DỰ KIẾN' },
  'col.started': { en: 'STARTED', vi: 'BẮT ĐẦU' },
  'col.type': { en: 'TYPE', vi: 'LOẠI' },
  'col.delivery': { en: 'DELIVERY', vi: 'KẾT QUẢ' },
  'col.item': { en: 'ITEM', vi: 'MỤC' },
  'col.key': { en: 'KEY', vi: 'KHÓA' },
  'col.publicKey': { en: 'PUBLIC KEY', vi: 'KHÓA CÔNG KHAI' },
  'col.allow': { en: 'MAY SIGN', vi: 'ĐƯỢC KÝ' },
  'col.private': { en: 'PRIVATE', vi: 'BÍ MẬT' },
  'col.pushed': { en: 'PUSHED', vi: 'ĐÃ GỬI' },
  'col.applied': { en: 'APPLIED', vi: 'ĐÃ ÁP DỤNG' },
  'col.changes': { en: 'CHANGES', vi: 'THAY ĐỔI' },
  'provision.sameKeyTwice': {
    en: 'signers {a} and {b} are the same public key: one person could meet the alert quorum alone; give each signer its own key',
    vi: 'hai người ký {a} và {b} dùng cùng một khóa công khai: một người có thể tự đủ số chữ ký cảnh báo; mỗi người ký cần khóa riêng',
  },
  'opt.stationPort': {
    en: 'port of a plain station listener (a closed LAN or one machine); stations get TLS otherwise',
    vi: 'cổng nghe không mã hóa cho các đài (mạng nội bộ kín hoặc một máy); nếu không các đài dùng TLS',
  },
  'keys.otherOwner': {
    en: '{path} belongs to another account (uid {uid}): a private key must be readable by its owner alone',
    vi: '{path} thuộc tài khoản khác (uid {uid}): khóa bí mật chỉ chủ sở hữu được đọc',
  },
  'keys.readableByOthers': {
    en: '{path} is readable by other accounts (mode {mode}): chmod 700 the key directory and 600 the key',
    vi: '{path} tài khoản khác đọc được (quyền {mode}): chmod 700 thư mục khóa và 600 tệp khóa',
  },
  'keys.secondAlertKey': {
    en: '{dir} already holds the private key of alert signer(s) {others}: keeping {id} beside it would let one account meet the two-person rule alone. Each official runs `loa keys init` in their own account (or with their own LOA_KEY_DIR)',
    vi: '{dir} đã chứa khóa bí mật của người ký cảnh báo {others}: để {id} cùng chỗ thì một tài khoản tự đủ quy tắc hai người. Mỗi cán bộ chạy `loa keys init` trong tài khoản riêng (hoặc LOA_KEY_DIR riêng)',
  },
  'keys.badPublic': { en: 'not a public key: {reason}', vi: 'không phải khóa công khai: {reason}' },
  'keys.sameAs': {
    en: 'the public key of {id} is already recorded as {other}: one key under two names would count twice toward the alert quorum',
    vi: 'khóa công khai của {id} đã được ghi là {other}: một khóa hai tên sẽ bị tính hai lần vào số chữ ký cảnh báo',
  },
  'keys.imported': { en: 'recorded public key {id}: {file}', vi: 'đã ghi khóa công khai {id}: {file}' },
  'cmd.keys.import': {
    en: "record another official's public key (made with `loa keys init` in their account)",
    vi: 'ghi khóa công khai của cán bộ khác (tạo bằng `loa keys init` trong tài khoản của họ)',
  },
  'opt.keyDir': {
    en: 'directory of YOUR private keys (default $LOA_KEY_DIR or ~/.config/loa/keys)',
    vi: 'thư mục khóa bí mật CỦA BẠN (mặc định $LOA_KEY_DIR hoặc ~/.config/loa/keys)',
  },
  'alert.sameKeyOtherName': {
    en: 'key {key} is the same public key as {other}, which already signed: a second person must approve with their own key',
    vi: 'khóa {key} trùng khóa công khai với {other} đã ký: người thứ hai phải phê duyệt bằng khóa của chính mình',
  },
  'alert.sameKeyFile': {
    en: '{file} is the very key file {other} signed with: a second person must approve with their own key',
    vi: '{file} chính là tệp khóa {other} đã dùng để ký: người thứ hai phải phê duyệt bằng khóa của chính mình',
  },
  'alert.holdsDrafterKey': {
    en: "this account also holds the private key of {other}, who drafted it: approve from the second official's own account, where only their key is readable",
    vi: 'tài khoản này cũng giữ khóa bí mật của {other}, người soạn bản nháp: hãy phê duyệt từ tài khoản riêng của cán bộ thứ hai',
  },
  'alert.cancelDrafted': {
    en: 'cancel of live alert {id} and its correction drafted: {file}\na second official approves both: loa alert approve {file} --key OTHER_KEY',
    vi: 'đã soạn lệnh hủy cảnh báo thật {id} kèm bản đính chính: {file}\ncán bộ thứ hai phê duyệt cả hai: loa alert approve {file} --key KHOA_KHAC',
  },
  // CAP in (loa cap import | watch)
  'cmd.cap': { en: 'CAP warnings in: Common Alerting Protocol messages become alert drafts', vi: 'nhận cảnh báo CAP: bản tin Common Alerting Protocol thành bản nháp cảnh báo' },
  'cmd.cap.import': {
    en: 'draft alerts from CAP files, Atom/RSS indexes of them or http(s) URLs (one result per message)',
    vi: 'soạn bản nháp cảnh báo từ tệp CAP, chỉ mục Atom/RSS hoặc URL http(s) (một kết quả cho mỗi bản tin)',
  },
  'cmd.cap.watch': {
    en: 'poll CAP feeds (cap.sources urls) and watch directories; each new message becomes a draft',
    vi: 'theo dõi nguồn CAP (url trong cap.sources) và thư mục; mỗi bản tin mới thành một bản nháp',
  },
  'arg.capInputs': { en: 'CAP files, Atom/RSS index files or http(s) URLs', vi: 'tệp CAP, tệp chỉ mục Atom/RSS hoặc URL http(s)' },
  'arg.capSources': {
    en: 'feed URLs listed in cap.sources, or directories (default: every cap.sources url)',
    vi: 'URL nguồn có trong cap.sources, hoặc thư mục (mặc định: mọi url trong cap.sources)',
  },
  'opt.capNow': { en: 'with --dry-run: judge expiry and validity as of this ISO instant', vi: 'với --dry-run: xét hết hạn và hiệu lực tại thời điểm ISO này' },
  'opt.capInterval': { en: 'seconds between feed polls (default cap.pollSec, 60)', vi: 'số giây giữa hai lần đọc nguồn (mặc định cap.pollSec, 60)' },
  'opt.capFeeds': {
    en: 'also poll every cap.sources url (the default when no source is given)',
    vi: 'đồng thời theo dõi mọi url trong cap.sources (mặc định khi không chỉ nguồn nào)',
  },
  'opt.capOnce': { en: 'look at every source once, then exit', vi: 'xem mỗi nguồn một lần rồi thoát' },
  'cap.refused': { en: '{id}: refused: {reason}', vi: '{id}: từ chối: {reason}' },
  'cap.ignored': { en: '{id}: ignored: {reason}', vi: '{id}: bỏ qua: {reason}' },
  'cap.planned': { en: '{action}{test} {id} → {targets}: {headline}', vi: '{action}{test} {id} → {targets}: {headline}' },
  'cap.drafted': {
    en: '{action}{test} {id} drafted: {file}\n  → {targets}: {headline}\n  needs {needed} approval(s): loa alert approve {file} --key YOUR_KEY',
    vi: '{action}{test} {id} đã soạn bản nháp: {file}\n  → {targets}: {headline}\n  cần {needed} người phê duyệt: loa alert approve {file} --key KHOA_CUA_BAN',
  },
  'cap.duplicate': { en: '{id}: already handled: {file}', vi: '{id}: đã xử lý trước đó: {file}' },
  'cap.nothingDrafted': { en: '{id}: nothing had aired, so no cancel is needed', vi: '{id}: chưa có gì được phát, không cần lệnh hủy' },
  'cap.withdrew': { en: '  withdrew the unsent draft {draft}, which {id} replaces', vi: '  đã rút bản nháp chưa gửi {draft}, bị {id} thay thế' },
  'cap.wouldWithdraw': { en: '  would withdraw the unsent draft {draft}, which {id} replaces', vi: '  sẽ rút bản nháp chưa gửi {draft}, bị {id} thay thế' },
  'cap.audioProblem': {
    en: '{id}: its audio resource was not used ({problem}); the draft speaks the text instead',
    vi: '{id}: không dùng được tệp âm thanh kèm theo ({problem}); bản nháp đọc văn bản thay thế',
  },
  'cap.badNow': {
    en: '--now {value}: expected an ISO time with offset, e.g. 2026-11-03T14:05:00+07:00',
    vi: '--now {value}: cần thời điểm ISO có múi giờ, ví dụ 2026-11-03T14:05:00+07:00',
  },
  'cap.nowNeedsDryRun': { en: '--now only goes with --dry-run', vi: '--now chỉ dùng cùng --dry-run' },
  'cap.watchNoSources': {
    en: 'nothing to watch: give a directory or URL, or list feed urls in cap.sources',
    vi: 'không có gì để theo dõi: hãy chỉ thư mục hoặc URL, hoặc khai báo url trong cap.sources',
  },
  'cap.watchUnknownUrl': { en: '{url} is not a feed url in cap.sources', vi: '{url} không phải url nguồn trong cap.sources' },
  'cap.watchNotSource': { en: '{source}: expected a directory or an http(s) URL', vi: '{source}: cần thư mục hoặc URL http(s)' },
  'cap.sourceFailed': { en: 'cap watch: {source}: {reason}', vi: 'cap watch: {source}: {reason}' },
  'cap.watching': { en: 'cap watch: watching {sources}', vi: 'cap watch: đang theo dõi {sources}' },
  'cmd.cap.drafts': {
    en: 'CAP drafts waiting for approval: sender, urgency and severity, areas, other languages',
    vi: 'bản nháp từ CAP đang chờ phê duyệt: nơi gửi, mức khẩn cấp và nghiêm trọng, khu vực, các ngôn ngữ khác',
  },
  'cap.noDrafts': { en: '(no CAP draft is waiting for approval)', vi: '(không có bản nháp CAP nào chờ phê duyệt)' },
  'cap.col.draft': { en: 'draft', vi: 'bản nháp' },
  'cap.col.message': { en: 'CAP message', vi: 'bản tin CAP' },
  'cap.col.urgency': { en: 'urgency/severity', vi: 'khẩn cấp/nghiêm trọng' },
  'cap.col.headline': { en: 'headline', vi: 'tiêu đề' },
  'cap.col.stations': { en: 'stations', vi: 'số đài' },
  'cap.col.signed': { en: 'signed', vi: 'đã ký' },
  'cap.col.expires': { en: 'expires', vi: 'hết hạn' },
  'arg.publicKey': { en: 'base64 public key (44 characters, from `loa keys init`)', vi: 'khóa công khai base64 (44 ký tự, từ `loa keys init`)' },
  'cmd.media': { en: 'media published to the broker', vi: 'âm thanh đã gửi lên broker' },
  'cmd.media.gc': {
    en: 'clear retained clips that no schedule, draft or recent broadcast uses',
    vi: 'xóa các tệp âm thanh lưu trên broker không còn lịch, bản nháp hay bản tin gần đây nào dùng',
  },
  'opt.dryRun': { en: 'only say what would be done', vi: 'chỉ cho biết sẽ làm gì' },
  'opt.keepDays': { en: 'keep clips of broadcasts from the last N days (default 14)', vi: 'giữ âm thanh của các bản tin trong N ngày gần nhất (mặc định 14)' },
  'cmd.db': { en: 'central database', vi: 'cơ sở dữ liệu trung tâm' },
  'cmd.db.prune': { en: 'delete acks, state history and finished broadcasts older than N days', vi: 'xóa xác nhận, lịch sử trạng thái và bản tin đã xong cũ hơn N ngày' },
  'opt.olderThan': { en: 'age in days, e.g. 400d', vi: 'số ngày, ví dụ 400d' },
  'db.olderThan': { en: '--older-than {value}: expected a number of days such as 400d', vi: '--older-than {value}: cần số ngày, ví dụ 400d' },
  'db.pruned': { en: 'pruned rows older than {days} days: {rows}', vi: 'đã xóa các dòng cũ hơn {days} ngày: {rows}' },
  // central store (SQLite or PostgreSQL), several collectors, bridges
  'db.unreachable': { en: 'cannot open the central database {url}: {reason}', vi: 'không mở được cơ sở dữ liệu trung tâm {url}: {reason}' },
  'db.passwordFile': { en: 'cannot read the database password file {file}: {reason}', vi: 'không đọc được tệp mật khẩu cơ sở dữ liệu {file}: {reason}' },
  'fleet.databaseUrl': { en: 'expected a file path or a postgres://user@host:5432/dbname URL', vi: 'cần đường dẫn tệp hoặc URL postgres://user@host:5432/dbname' },
  'fleet.databasePasswordFile': { en: 'only for a postgres:// database', vi: 'chỉ dùng với cơ sở dữ liệu postgres://' },
  'opt.shared': {
    en: 'share the acks with the other collectors of GROUP (MQTT shared subscription; needs --client-id)',
    vi: 'chia xác nhận với các bộ thu khác của nhóm GROUP (đăng ký dùng chung MQTT; cần --client-id)',
  },
  'collect.sharedNeedsClientId': {
    en: '--shared needs --client-id: every collector of a group has its own client id',
    vi: '--shared cần --client-id: mỗi bộ thu trong nhóm có mã client riêng',
  },
  'collect.collectors': { en: '{count} collector(s) alive: {ids}', vi: '{count} bộ thu đang chạy: {ids}' },
  'collect.badId': { en: '{option} {value}: expected [A-Za-z0-9_-]{1,64}', vi: '{option} {value}: cần [A-Za-z0-9_-]{1,64}' },
  'opt.stationsGroup': { en: 'only the stations of this group', vi: 'chỉ các đài của cụm này' },
  'opt.stationsOffline': { en: 'only stations offline or never seen', vi: 'chỉ các đài mất kết nối hoặc chưa từng thấy' },
  'opt.stationsLimit': { en: 'rows per page (default: all)', vi: 'số dòng mỗi trang (mặc định: tất cả)' },
  'opt.stationsPage': { en: 'which page, from 1 (with --limit)', vi: 'trang thứ mấy, từ 1 (với --limit)' },
  'stations.page': {
    en: 'page {page} of {pages}: stations {first}-{last} of {count} (--page N for another)',
    vi: 'trang {page}/{pages}: đài {first}-{last} trên {count} (--page N để xem trang khác)',
  },
  'stations.none': { en: 'no station matches', vi: 'không có đài nào phù hợp' },
  'stations.pageNeedsLimit': { en: '--page needs --limit', vi: '--page cần --limit' },
  'fleet.unknownBridge': { en: 'unknown bridge "{id}"; the fleet file lists: {known}', vi: 'không có cầu nối "{id}"; tệp cấu hình có: {known}' },
  'opt.bridge': {
    en: 'write the config of the ward/district broker of bridge ID (fleet `bridges`) instead of the central one',
    vi: 'ghi cấu hình broker phường/huyện của cầu nối ID (mục `bridges`) thay cho broker trung tâm',
  },
  'opt.bridgeTo': {
    en: 'with --bridge: the central broker the bridge connects to (default: the first broker.stationUrls)',
    vi: 'với --bridge: broker trung tâm mà cầu nối kết nối tới (mặc định: broker.stationUrls đầu tiên)',
  },
  'broker.bridgeWrote': {
    en: 'bridge {id}: {count} station(s) connect to this broker; it passes exactly their topics to and from {to}',
    vi: 'cầu nối {id}: {count} đài kết nối broker này; nó chỉ chuyển đúng các chủ đề của các đài đó tới và từ {to}',
  },
  'media.gcDone': { en: 'cleared {cleared} retained clip(s); kept {kept}', vi: 'đã xóa {cleared} tệp âm thanh trên broker; giữ {kept}' },
  'media.gcDry': { en: 'would clear {cleared} retained clip(s); keep {kept}', vi: 'sẽ xóa {cleared} tệp âm thanh trên broker; giữ {kept}' },
  'stations.storeFault': { en: 'STORE REFUSES WRITES', vi: 'KHO DỮ LIỆU KHÔNG GHI ĐƯỢC' },
  'stations.storeReset': { en: 'store reset', vi: 'kho dữ liệu đã làm mới' },
  'stations.conflicts': { en: '{n} ack conflict(s)', vi: '{n} xác nhận mâu thuẫn' },
  'stations.stopped': { en: 'STOPPED (only emergencies air)', vi: 'ĐANG DỪNG (chỉ phát khẩn cấp)' },
  'keys.importHint': {
    en: 'the fleet key directory is not writable from this account: give the administrator this line to run: loa keys import {id} {pub}',
    vi: 'tài khoản này không ghi được thư mục khóa của hồ sơ: đưa quản trị viên dòng sau để chạy: loa keys import {id} {pub}',
  },
  'announce.tooFar': {
    en: '--at: an announcement may be at most {days} days ahead (a command is valid for 7 days); use a schedule for later dates',
    vi: '--at: thông báo chỉ đặt trước tối đa {days} ngày (lệnh có hiệu lực 7 ngày); hãy dùng lịch phát cho ngày xa hơn',
  },
  'collect.listenerFailed': { en: 'a live listener failed: {reason}', vi: 'bộ theo dõi trực tiếp lỗi: {reason}' },
  'serve.plainNotLoopback': {
    en: 'plain HTTP only on a loopback address (127.0.0.1), not {host}: phones on the LAN need HTTPS',
    vi: 'HTTP thường chỉ trên địa chỉ loopback (127.0.0.1), không phải {host}: điện thoại trong mạng LAN cần HTTPS',
  },
  'serve.badPort': { en: '--port {port}: expected 0-65535', vi: '--port {port}: cần 0-65535' },
  'serve.badIdle': { en: '--idle-minutes {value}: expected 1-1440', vi: '--idle-minutes {value}: cần 1-1440' },
  'serve.certAndKey': { en: '--tls-cert and --tls-key go together', vi: '--tls-cert và --tls-key phải đi cùng nhau' },
  'serve.noOpenssl': {
    en: "openssl is missing: cannot make the console's certificate (install openssl, or give --tls-cert/--tls-key)",
    vi: 'thiếu openssl: không tạo được chứng chỉ cho bảng điều khiển (cài openssl, hoặc dùng --tls-cert/--tls-key)',
  },
  'serve.listening': { en: 'console at {url} ({collect})', vi: 'bảng điều khiển tại {url} ({collect})' },
  'serve.withCollector': { en: 'collector in this process', vi: 'bộ thu chạy cùng tiến trình' },
  'serve.besideCollector': { en: 'reading what loa collect stores', vi: 'đọc dữ liệu do loa collect lưu' },
  'serve.noWeb': { en: 'the page is not built ({dir} missing): run npm run build', vi: 'chưa dựng trang ({dir} chưa có): chạy npm run build' },
  'cmd.serve': { en: 'the web console for ward staff and the operations centre', vi: 'bảng điều khiển web cho cán bộ phường và trung tâm điều hành' },
  'cmd.users': { en: 'console accounts', vi: 'tài khoản bảng điều khiển' },
  'cmd.users.add': { en: 'create a console account (role ward, operator, approver or admin)', vi: 'tạo tài khoản (vai trò ward, operator, approver hoặc admin)' },
  'cmd.users.list': { en: 'list console accounts', vi: 'liệt kê tài khoản' },
  'cmd.users.passwd': { en: 'set a new password (and bind your signing key with --key)', vi: 'đặt mật khẩu mới (và gắn khóa ký của bạn bằng --key)' },
  'cmd.users.disable': { en: 'disable an account (its sessions end)', vi: 'khóa tài khoản (phiên đang mở bị đóng)' },
  'cmd.users.enable': { en: 'enable a disabled account', vi: 'mở lại tài khoản đã khóa' },
  'opt.role': { en: 'ward | operator | approver | admin', vi: 'ward | operator | approver | admin' },
  'opt.userStations': { en: 'stations this user serves (comma-separated)', vi: 'các đài người dùng này phụ trách (phân cách bằng dấu phẩy)' },
  'opt.userGroups': { en: 'groups (units) this user serves (comma-separated)', vi: 'các cụm (đơn vị) người dùng này phụ trách' },
  'opt.userKey': { en: 'bind this signing key (read from your own key directory)', vi: 'gắn khóa ký này (đọc từ thư mục khóa riêng của bạn)' },
  'opt.passwordStdin': { en: 'read the password from the first line of stdin', vi: 'đọc mật khẩu từ dòng đầu của stdin' },
  'opt.collect': { en: 'run the collector in this process too', vi: 'chạy cả bộ thu trong tiến trình này' },
  'opt.serveHost': { en: 'address to listen on (default 0.0.0.0 with TLS, 127.0.0.1 without)', vi: 'địa chỉ lắng nghe (mặc định 0.0.0.0 với TLS, 127.0.0.1 nếu không)' },
  'opt.servePort': { en: 'port (default 8443 with TLS, 8080 without)', vi: 'cổng (mặc định 8443 với TLS, 8080 nếu không)' },
  'opt.tlsCert': { en: 'certificate file (PEM); default: one made from the fleet CA', vi: 'tệp chứng chỉ (PEM); mặc định: tạo từ CA của hệ thống' },
  'opt.tlsKey': { en: 'private key of --tls-cert (PEM)', vi: 'khóa bí mật của --tls-cert (PEM)' },
  'opt.serveNoTls': { en: 'plain HTTP (loopback only)', vi: 'HTTP thường (chỉ loopback)' },
  'opt.idleMinutes': { en: 'log out after this many idle minutes (default 30)', vi: 'đăng xuất sau số phút không thao tác (mặc định 30)' },
  'opt.serveHostname': { en: 'extra host name or IP for the certificate (repeatable)', vi: 'tên máy hoặc IP thêm cho chứng chỉ (có thể lặp)' },
  'users.password': { en: 'Password for {name}: ', vi: 'Mật khẩu cho {name}: ' },
  'users.passwordAgain': { en: 'Again: ', vi: 'Nhập lại: ' },
  'users.mismatch': { en: 'the passwords differ', vi: 'hai mật khẩu không khớp' },
  'users.needStdin': { en: 'no terminal to ask for the password: use --password-stdin', vi: 'không có terminal để hỏi mật khẩu: dùng --password-stdin' },
  'users.added': { en: 'user {name} ({role}) added{key}', vi: 'đã thêm người dùng {name} ({role}){key}' },
  'users.keyBound': { en: ', bound to key {key}', vi: ', gắn với khóa {key}' },
  'users.passwdDone': { en: 'password of {name} changed{key}', vi: 'đã đổi mật khẩu của {name}{key}' },
  'users.keyDropped': {
    en: "; its key binding was dropped (bind it again with --key from the key owner's account)",
    vi: '; khóa đã gắn bị gỡ (chủ khóa gắn lại bằng --key từ tài khoản của mình)',
  },
  'users.disabled': { en: 'user {name} disabled', vi: 'đã khóa người dùng {name}' },
  'users.enabled': { en: 'user {name} enabled', vi: 'đã mở lại người dùng {name}' },
  'users.error': { en: '{reason}', vi: '{reason}' },
  'schedule.unknownMedia': { en: 'no clip {sha256} in the central media store: upload it again', vi: 'không có đoạn âm thanh {sha256} trong kho trung tâm: hãy tải lên lại' },
  'opt.liveUrl': {
    en: "base URL stations fetch live microphone streams from (default: the console's URL)",
    vi: 'URL gốc để các đài lấy luồng phát trực tiếp (mặc định: URL của bảng điều khiển)',
  },
  'opt.livePort': {
    en: 'serve live streams on this plain-HTTP port too (for stations that do not trust the fleet CA)',
    vi: 'phục vụ luồng trực tiếp trên cổng HTTP thường này (cho đài không tin CA của hệ thống)',
  },
} satisfies Record<string, Entry>;

/** The daemon team adds its section here. */
const daemon = {
  'station.description': {
    en: 'Loa ward-box daemon: receives signed broadcasts over MQTT and plays them on the speaker zones',
    vi: 'Dịch vụ đài Loa: nhận bản tin đã ký qua MQTT và phát ra các vùng loa',
  },
  'station.run': { en: 'run the station daemon (the default)', vi: 'chạy dịch vụ đài (mặc định)' },
  'station.log': { en: 'show the as-run log: what played, where, planned vs actual, outcome', vi: 'xem nhật ký phát sóng: đã phát gì, ở đâu, giờ dự kiến và thực tế, kết quả' },
  'station.doctor': { en: 'check config, ffmpeg, outputs, disk, broker and clock', vi: 'kiểm tra cấu hình, ffmpeg, đầu ra loa, ổ đĩa, broker và đồng hồ' },
  'station.opt.config': { en: 'station config file (YAML)', vi: 'tệp cấu hình đài (YAML)' },
  'station.opt.from': { en: 'from this date/time (ISO)', vi: 'từ ngày/giờ (ISO)' },
  'station.opt.to': { en: 'up to this date/time (ISO)', vi: 'đến ngày/giờ (ISO)' },
  'station.opt.limit': { en: 'at most this many rows', vi: 'tối đa bấy nhiêu dòng' },
  'log.col.planned': { en: 'planned (UTC)', vi: 'dự kiến (UTC)' },
  'log.col.started': { en: 'started', vi: 'bắt đầu' },
  'log.col.ended': { en: 'ended', vi: 'kết thúc' },
  'log.col.zone': { en: 'zone', vi: 'vùng loa' },
  'log.col.priority': { en: 'priority', vi: 'mức ưu tiên' },
  'log.col.outcome': { en: 'outcome', vi: 'kết quả' },
  'log.col.broadcast': { en: 'broadcast', vi: 'bản tin' },
  'log.col.title': { en: 'title', vi: 'tiêu đề' },
  'log.empty': { en: '(nothing has aired yet)', vi: '(chưa phát bản tin nào)' },
  'station.opt.doctorWait': {
    en: 'when the daemon is not running, seconds to wait for a live heartbeat from the collector (clock offset)',
    vi: 'khi trạm chưa chạy: số giây chờ tín hiệu từ máy trung tâm để đo lệch đồng hồ',
  },
  'doctor.ok': { en: 'ok  ', vi: 'tốt ' },
  'doctor.fail': { en: 'FAIL', vi: 'LỖI' },
  'station.opt.clearStoreReset': {
    en: 'stop reporting a store reset (after someone has looked at the file moved aside)',
    vi: 'thôi báo việc kho dữ liệu đã làm mới (sau khi đã kiểm tra tệp được chuyển sang bên)',
  },
} satisfies Record<string, Entry>;

/** What residents hear: always Vietnamese, whatever the operator's locale. */
const SPOKEN = {
  correction: 'Thông báo đính chính: cảnh báo vừa phát đã được hủy bỏ. Xin bà con bỏ qua cảnh báo trước đó và tiếp tục sinh hoạt bình thường.',
  correctionTitle: 'Đính chính cảnh báo',
} as const;

const catalogue = { ...cli, ...daemon };
export type MessageKey = keyof typeof catalogue;

export function languageFromEnv(env: NodeJS.ProcessEnv = process.env): Lang {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('vi') ? 'vi' : 'en';
}

let current: Lang = languageFromEnv();

export function setLanguage(lang: Lang): void {
  current = lang;
}

export function language(): Lang {
  return current;
}

export function t(key: MessageKey, vars: Record<string, string | number> = {}, lang: Lang = current): string {
  const entry: Entry | undefined = (catalogue as Record<string, Entry>)[key];
  const text = entry ? entry[lang] : key;
  return text.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export function spoken(key: keyof typeof SPOKEN): string {
  return SPOKEN[key];
}
