<!-- title: Hỏi đáp pháp luật -->
<h2>Hỏi đáp pháp luật</h2>
<p>Gửi câu hỏi về địa chỉ thư điện tử stp@quangbinh.gov.vn hoặc điền vào mẫu dưới đây. Câu hỏi sẽ được trả lời trong 15 ngày làm việc.</p>
<div><input name="ctl00$HoTen" title="Họ tên"><textarea name="ctl00$CauHoi" title="Câu hỏi"></textarea><button>Gửi</button></div>
