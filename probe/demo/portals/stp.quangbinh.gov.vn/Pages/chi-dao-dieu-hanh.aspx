<!-- title: Chỉ đạo - Điều hành -->
<h2>Chỉ đạo - Điều hành</h2>
<ul><li>Kế hoạch số 45/KH-STP ngày 20/10/2015 kiểm tra công tác hộ tịch năm 2015</li><li>Công văn số 812/STP-HCTP ngày 05/10/2015 hướng dẫn cấp phiếu lý lịch tư pháp</li></ul>
