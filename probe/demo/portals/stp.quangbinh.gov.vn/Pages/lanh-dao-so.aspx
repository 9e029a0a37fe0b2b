<!-- title: Lãnh đạo Sở -->
<h2>Lãnh đạo Sở</h2>
<table><tr><th>Họ tên</th><th>Chức vụ</th><th>Điện thoại</th><th>Thư điện tử</th></tr>
<tr><td>Ngô Thị Hải Yến</td><td>Giám đốc</td><td>(0232) 3822 540</td><td>yennth.stp@quangbinh.gov.vn</td></tr>
<tr><td>Trương Công Bình</td><td>Phó Giám đốc</td><td>(0232) 3822 541</td><td>binhtc.stp@quangbinh.gov.vn</td></tr></table>
