<!-- title: Văn bản -->
<h2>Văn bản quy phạm pháp luật</h2>
<table><tr><th>Số/Ký hiệu</th><th>Ngày ban hành</th><th>Ngày hiệu lực</th><th>Trích yếu</th><th></th></tr>
<tr><td>18/2015/QĐ-UBND</td><td>10/07/2015</td><td>20/07/2015</td><td>Quy định chức năng, nhiệm vụ, quyền hạn và cơ cấu tổ chức của Sở Tư pháp</td><td><a href="/Documents/18-2015-qd-ubnd.doc">Tải về</a></td></tr></table>
